import SwitchboardCore

/// Channel occupancy decided for every node sharing a store, so that `channel.occupied` is journaled
/// when a channel gains its first subscriber on any node and `channel.vacated` when it loses its last
/// on all of them (or the last node holding it dies).
///
/// It rides on shared presence: while this node has subscribers of channel `c`, one connection of its
/// own (`occupant`) is present in `$occupancy:c`, as the same user on every node. The store journals
/// that user's first join and last leave once for all nodes, keeps the node alive and reaps a dead
/// one's connections; the journal becomes `channel.occupied` and `channel.vacated` on `$occupancy:c`.
struct SharedOccupancy: Sendable {
    /// The user every node's occupant is, so that the nodes' occupants are one member.
    static let user = "$occupancy"

    /// This node's occupant: a connection id of its own.
    let occupant: PresenceMember

    init(using generator: inout some RandomNumberGenerator) {
        occupant = PresenceMember(
            client: "cl_occupancy_" + RandomToken.base62(count: 22, using: &generator),
            user: Self.user,
            info: nil
        )
    }

    /// The hub's observer: this node's occupant joins a channel's occupancy when the channel gains its
    /// first local subscriber and leaves when it loses its last, in that order, through `cluster`.
    func observer(carriedBy cluster: ClusterPresence) -> Hub.OccupancyObserver {
        let occupant = occupant
        return { channel, isOccupied in
            let journal = channel.occupancyJournal
            cluster.enqueue(isOccupied ? .join(journal, occupant) : .leave(journal, client: occupant.client))
        }
    }

    /// The memberships to join again when this node was reaped while alive: one per occupied channel.
    func memberships(of hub: Hub) -> [(ChannelName, PresenceMember)] {
        hub.occupiedChannels().compactMap { entry in
            entry.channel.isServerWritten ? nil : (entry.channel.occupancyJournal, occupant)
        }
    }
}
