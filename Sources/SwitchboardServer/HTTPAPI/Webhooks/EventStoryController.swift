import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// `GET /v1/events/{id}` (admin): one event's story — the event, where it came from, and every webhook
/// delivery it caused with each attempt.
struct EventStoryController<Context: RequestContext>: Sendable {
    let api: APIContext

    /// The most deliveries one story lists (one per endpoint, so rarely near it).
    static var maximumDeliveries: Int { 1000 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("events/{id}", use: story)
    }

    @Sendable func story(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let text = try context.parameters.require("id")
        guard !text.isEmpty, text.utf8.count <= 200 else { throw SwitchboardError(.notFound, "no such event") }
        let id = EventID(stored: text)
        let stored = try await api.engine.log.storedEvent(id: id)
        let deliveries = try await api.engine.deliveries.deliveries(event: text, limit: Self.maximumDeliveries)
        guard stored != nil || !deliveries.isEmpty else {
            throw SwitchboardError(.notFound, "no event \(text) is retained, and no delivery names it")
        }
        // The event in its canonical form, as every transport writes it.
        var event = "null"
        if let stored {
            event = "{"
            stored.event.appendFields(into: &event)
            event += "}"
        }
        let origin = stored?.origin?.json.jsonText ?? "null"
        let list = deliveries.map { WebhookJSON.delivery($0).jsonText }.joined(separator: ",")
        return APIContext.json(
            "{\"id\":\(JSONWriter.quoted(text)),\"event\":\(event),\"origin\":\(origin),\"deliveries\":[\(list)]}"
        )
    }
}
