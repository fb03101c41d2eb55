import SwitchboardCore
import SwitchboardServer
import Testing

@Suite("Configuration key check")
struct ConfigurationKeyCheckTests {
    private let check = ConfigurationKeyCheck(namespaces: ["chat"], sources: ["github"])

    private func fileRefusal(_ json: String) throws -> ConfigurationError? {
        let file = try JSONParser.parse(json)
        do {
            try check.check(file: file)
            return nil
        } catch {
            return error
        }
    }

    private func environmentRefusal(_ environment: [String: String]) -> ConfigurationError? {
        do {
            try check.check(environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("Every documented key, nested or dotted, passes in the file")
    func knownKeysPass() throws {
        let json = """
            {"http":{"port":8080,"host":"0.0.0.0"},"store.durability":"full","dev":false,"namespaces":["chat"],
            "namespace":{"default":{"retention_count":5},"chat":{"public":true,"presence":true}},
            "sources":["github"],"source":{"github":{"verify":"github","secrets":["s"]}},
            "jwt":{"public_keys":["a.pem"]},"timeouts":{"close_seconds":3},"limits":{"max_page_bytes":4096}}
            """
        #expect(try fileRefusal(json) == nil)
    }

    @Test(
        "A misspelled key in the file is refused with the nearest known key",
        arguments: [
            (#"{"namespace":{"chat":{"publik":true}}}"#, "namespace.chat.publik", "namespace.chat.public"),
            (#"{"http":{"prot":1}}"#, "http.prot", "http.port"),
            (#"{"limits.max_batchs":5}"#, "limits.max_batchs", "limits.max_batch"),
            (#"{"source":{"github":{"secret":"x"}}}"#, "source.github.secret", "source.github.secrets"),
        ]
    )
    func misspelledInFile(json: String, key: String, nearest: String) throws {
        let error = try #require(try fileRefusal(json))
        #expect(error.key == key)
        #expect(error.message.contains("did you mean \(nearest)?"), "\(error)")
    }

    @Test("Settings of a namespace or source that is not listed are refused, saying where to list it")
    func unlisted() throws {
        let namespace = try #require(try fileRefusal(#"{"namespace":{"orders":{"public":true}}}"#))
        #expect(namespace.key == "namespace.orders.public" && namespace.message.contains("namespaces"))
        let source = try #require(try fileRefusal(#"{"source":{"stripe":{"verify":"stripe"}}}"#))
        #expect(source.key == "source.stripe.verify" && source.message.contains("sources"))
    }

    @Test("SWITCHBOARD_ variables: known ones and the tools' own pass; a typo is refused with the nearest")
    func environment() throws {
        #expect(
            environmentRefusal([
                "SWITCHBOARD_HTTP_PORT": "1", "SWITCHBOARD_NAMESPACE_CHAT_PUBLIC": "true",
                "SWITCHBOARD_SOURCE_GITHUB_SECRETS": "x", "SWITCHBOARD_API_KEY": "sbk_x", "PATH": "/bin",
                "SWITCHBOARD_STORE_DATABASE_URL": "postgres://db/switchboard",
                "SWITCHBOARD_STORE_CLUSTER_POLL_MS": "250",
            ]) == nil
        )
        let typo = try #require(environmentRefusal(["SWITCHBOARD_LIMITS_MAX_BATHC": "5"]))
        #expect(typo.key == "SWITCHBOARD_LIMITS_MAX_BATHC")
        #expect(typo.message.contains("SWITCHBOARD_LIMITS_MAX_BATCH"), "\(typo)")
        let unlisted = try #require(environmentRefusal(["SWITCHBOARD_NAMESPACE_ORDERS_PUBLIC": "true"]))
        #expect(unlisted.message.contains("namespaces"), "\(unlisted)")
    }

    @Test("Variable names follow the documented rule")
    func variableNames() {
        #expect(
            ConfigurationKeyCheck.variable(for: "namespace.chat-room.public")
                == "SWITCHBOARD_NAMESPACE_CHAT_ROOM_PUBLIC"
        )
        #expect(ConfigurationKeyCheck.variable(for: "http.port") == "SWITCHBOARD_HTTP_PORT")
    }
}
