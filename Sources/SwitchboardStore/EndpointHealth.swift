import SwitchboardCore

/// When a failed attempt disables its endpoint: at once for `410 Gone`, or once every attempt has
/// failed for longer than allowed.
enum EndpointHealth {
    /// Why the endpoint is disabled after `result`, failing since `failingSince`; nil to keep it.
    static func reasonToDisable(
        after result: AttemptResult,
        failingSince: Int64,
        now: Timestamp,
        disableFailingAfter: Duration
    ) -> String? {
        if let gone = result.disablesEndpoint { return gone }
        guard now.millisecondsSinceEpoch - failingSince >= disableFailingAfter.wholeMilliseconds else { return nil }
        return "every attempt failed for \(disableFailingAfter.wholeMilliseconds / 3_600_000) hours"
    }
}
