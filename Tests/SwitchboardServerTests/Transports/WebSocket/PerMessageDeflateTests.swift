import Testing

@testable import SwitchboardServer

@Suite("permessage-deflate negotiation")
struct PerMessageDeflateTests {
    @Test(
        "Acceptable offers are agreed, with client_no_context_takeover echoed when offered",
        arguments: [
            ("permessage-deflate", false),
            ("permessage-deflate; client_max_window_bits", false),
            ("permessage-deflate; client_max_window_bits=10; server_no_context_takeover", false),
            ("permessage-deflate; client_no_context_takeover", true),
            ("x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=15", false),
        ]
    )
    func agreed(offer: String, clientNoContextTakeover: Bool) {
        let agreement = PerMessageDeflate.negotiate(offers: [offer])
        #expect(agreement == PerMessageDeflate(clientNoContextTakeover: clientNoContextTakeover))
        #expect(agreement?.responseHeader.hasPrefix("permessage-deflate; server_no_context_takeover") == true)
    }

    @Test(
        "Malformed or unacceptable offers are declined without failing the upgrade",
        arguments: [
            "permessage-deflate;=",
            "permessage-deflate; ;x",
            "permessage-deflate; =15",
            "permessage-deflate; server_max_window_bits=",
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=99",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; unknown_parameter",
            "x-other",
            ";;;",
            "",
        ]
    )
    func declined(offer: String) {
        #expect(PerMessageDeflate.negotiate(offers: [offer]) == nil)
    }
}
