/// Why an inbound request's signature was refused: the same reasons as for a Standard Webhooks
/// signature; the sentence is what the source's request log shows.
public typealias InboundRejection = WebhookSignature.Failure
