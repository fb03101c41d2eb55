/// WebSocket close codes PROTOCOL.md defines.
public enum CloseCode: UInt16, Hashable, Sendable {
    case normal = 1000
    case goingAway = 1001
    case policy = 1008
    case frameTooBig = 1009
    case internalError = 1011
    case restarting = 1012
    case unauthorized = 4001
    case forbidden = 4003
    case slowConsumer = 4008
    case rateLimited = 4029
}
