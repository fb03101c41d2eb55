public import SwitchboardCore
public import SwitchboardStore

/// The webhook operations of the HTTP API and the relay: each changes the store, then tells the
/// delivery worker, so that no caller can change what the worker works on and forget to tell it.
extension Engine {
    /// Stores a new endpoint.
    public func createEndpoint(_ endpoint: Endpoint) async throws {
        try await adminStore.insertEndpoint(endpoint)
        deliveryWorker.endpointsChanged()
    }

    /// Replaces an endpoint's settings and keys; false when there is no such endpoint.
    public func updateEndpoint(_ endpoint: Endpoint) async throws -> Bool {
        guard try await adminStore.updateEndpoint(endpoint) else { return false }
        deliveryWorker.endpointsChanged()
        return true
    }

    /// Removes an endpoint; false when there is no such endpoint.
    public func deleteEndpoint(id: String) async throws -> Bool {
        guard try await adminStore.deleteEndpoint(id: id) else { return false }
        deliveryWorker.endpointsChanged()
        return true
    }

    /// Enables an endpoint again; false when there is no such endpoint.
    public func enableEndpoint(id: String) async throws -> Bool {
        guard try await adminStore.setEndpointEnabled(id: id, enabled: true, reason: nil, at: ambient.wallClock())
        else { return false }
        deliveryWorker.endpointsChanged()
        return true
    }

    /// Disables an endpoint by an operator's hand (`reason` shown as its `disabledReason`): no new deliveries
    /// are queued for it and those queued wait until it is enabled; false when there is no such endpoint.
    public func disableEndpoint(id: String, reason: String) async throws -> Bool {
        guard try await adminStore.setEndpointEnabled(id: id, enabled: false, reason: reason, at: ambient.wallClock())
        else { return false }
        deliveryWorker.endpointsChanged()
        return true
    }

    /// Queues `event` for `endpoint` alone (a test delivery); the delivery's id.
    public func enqueueDirect(endpoint: String, event: Event) async throws -> String {
        let delivery = try await deliveries.enqueueDirect(endpoint: endpoint, event: event, now: ambient.wallClock())
        deliveryWorker.wake()
        return delivery
    }

    /// Makes a delivery due now; nil when there is no such delivery.
    public func retryDelivery(id: String) async throws -> DeliveryRecord? {
        guard let delivery = try await deliveries.retryNow(id: id, now: ambient.wallClock()) else { return nil }
        deliveryWorker.wake()
        return delivery
    }

    /// Queues again the endpoint's deliveries `selection` chooses; how many.
    public func replayDeliveries(endpoint: String, selection: ReplaySelection) async throws -> Int {
        let count = try await deliveries.replay(endpoint: endpoint, selection: selection, now: ambient.wallClock())
        deliveryWorker.wake()
        return count
    }

    /// Makes a relay endpoint's waiting deliveries due now (its listener just attached).
    public func expediteDeliveries(endpoint: String) async throws {
        try await deliveries.expedite(endpoint: endpoint, now: ambient.wallClock())
        deliveryWorker.wake()
    }
}
