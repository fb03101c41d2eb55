import Configuration
import SwitchboardCore
import SwitchboardServer
import Testing

/// `pusher.*`: the apps whose Pusher protocol is spoken, from the environment and from the file's keys.
@Suite("Pusher apps in the configuration")
struct PusherConfigurationTests {
    private func read(_ env: [String: String]) throws(ConfigurationError) -> ServerConfiguration {
        try ServerConfiguration(
            reader: ConfigReader(providers: [
                EnvironmentVariablesProvider(environmentVariables: env).prefixKeys(with: "switchboard")
            ])
        )
    }

    private func refusal(_ env: [String: String]) -> ConfigurationError? {
        do {
            _ = try read(env)
            return nil
        } catch {
            return error
        }
    }

    static let secret = "0123456789abcdef0123"

    @Test("Without settings no app is configured, so the Pusher endpoints are off")
    func offByDefault() throws {
        #expect(try read([:]).pusherApps.isEnabled == false)
    }

    @Test("One app from SWITCHBOARD_PUSHER_APP_ID, _KEY and _SECRET, more from pusher.apps")
    func apps() throws {
        let configuration = try read([
            "SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "main-key",
            "SWITCHBOARD_PUSHER_SECRET": Self.secret,
            "SWITCHBOARD_PUSHER_APPS": "2", "SWITCHBOARD_PUSHER_APP_2_KEY": "second-key",
            "SWITCHBOARD_PUSHER_APP_2_SECRET": Self.secret + "x",
        ])
        let apps = configuration.pusherApps
        #expect(apps.all.map(\.id) == ["1", "2"])
        #expect(apps.app(id: "2")?.key == "second-key")
        #expect(apps.app(key: "main-key")?.id == "1")
        #expect(apps.app(key: "nobody") == nil)
        #expect(apps.all.map(\.clientEvents) == [false, false])
        let talkative = try read([
            "SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "k", "SWITCHBOARD_PUSHER_SECRET": Self.secret,
            "SWITCHBOARD_PUSHER_CLIENT_EVENTS": "true",
        ])
        #expect(talkative.pusherApps.app(id: "1")?.clientEvents == true)
        let error = refusal([
            "SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "k", "SWITCHBOARD_PUSHER_SECRET": Self.secret,
            "SWITCHBOARD_PUSHER_CLIENT_EVENTS": "yes",
        ])
        #expect(error?.key == "pusher.client_events")
    }

    @Test(
        "Incomplete, malformed, weak or repeated app settings stop the server, naming the key",
        arguments: [
            (["SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "k"], "pusher.app_id"),
            (
                [
                    "SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "k",
                    "SWITCHBOARD_PUSHER_SECRET": "short",
                ], "pusher.secret"
            ),
            (
                [
                    "SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "a key",
                    "SWITCHBOARD_PUSHER_SECRET": secret,
                ], "pusher.key"
            ),
            (["SWITCHBOARD_PUSHER_APPS": "2", "SWITCHBOARD_PUSHER_APP_2_KEY": "k"], "pusher.app.2"),
            (
                [
                    "SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "k",
                    "SWITCHBOARD_PUSHER_SECRET": secret,
                    "SWITCHBOARD_PUSHER_APPS": "2", "SWITCHBOARD_PUSHER_APP_2_KEY": "k",
                    "SWITCHBOARD_PUSHER_APP_2_SECRET": secret,
                ], "pusher.key"
            ),
        ]
    )
    func refused(env: [String: String], key: String) throws {
        let error = try #require(refusal(env))
        #expect(error.key == key)
    }

    @Test("An app's own keys are known to the key check only when pusher.apps names it")
    func keyCheck() {
        let variables = ["SWITCHBOARD_PUSHER_APP_2_KEY": "k"]
        #expect(throws: ConfigurationError.self) {
            try ConfigurationKeyCheck(namespaces: [], sources: []).check(environment: variables)
        }
        #expect(throws: Never.self) {
            try ConfigurationKeyCheck(namespaces: [], sources: [], pusherApps: ["2"]).check(environment: variables)
        }
        #expect(throws: Never.self) {
            try ConfigurationKeyCheck(namespaces: [], sources: []).check(environment: [
                "SWITCHBOARD_PUSHER_APP_ID": "1", "SWITCHBOARD_PUSHER_KEY": "k", "SWITCHBOARD_PUSHER_SECRET": "s",
            ])
        }
    }
}
