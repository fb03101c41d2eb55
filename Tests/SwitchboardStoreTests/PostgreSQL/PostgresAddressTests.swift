import SwitchboardStore
import Testing

@Suite("PostgreSQL address")
struct PostgresAddressTests {
    @Test("A full URL gives host, port, user, password, database and TLS mode")
    func fullURL() throws {
        let address = try PostgresAddress(url: "postgres://app:s%40cret@db.internal:6543/events?sslmode=require")
        #expect(address.host == "db.internal")
        #expect(address.port == 6543)
        #expect(address.username == "app")
        #expect(address.password == "s@cret")
        #expect(address.database == "events")
        #expect(address.tls == .require)
    }

    @Test("Defaults: port 5432, the user's own database, TLS when offered, no password")
    func defaults() throws {
        let address = try PostgresAddress(url: "postgresql://switchboard@127.0.0.1")
        #expect(address.port == 5432)
        #expect(address.database == "switchboard")
        #expect(address.tls == .prefer)
        #expect(address.password == nil)
    }

    @Test("The description never shows the password")
    func descriptionHidesPassword() throws {
        let address = try PostgresAddress(url: "postgres://app:hunter2@localhost/events?sslmode=disable")
        #expect(!address.description.contains("hunter2"))
        #expect(address.description == "postgres://app@localhost:5432/events?sslmode=disable")
    }

    @Test(
        "A URL that is not a PostgreSQL URL is refused with what is wrong",
        arguments: [
            ("mysql://app@localhost/events", "postgres://"),
            ("postgres://localhost/events", "no user"),
            ("postgres://app@/events", "no host"),
            ("postgres://app@localhost:70000/events", "port"),
            ("postgres://app@localhost/events?sslmode=sometimes", "sslmode"),
            ("not a url at all", "postgres://"),
        ]
    )
    func refused(url: String, message: String) {
        #expect {
            try PostgresAddress(url: url)
        } throws: { error in
            String(describing: error).contains(message)
        }
    }

    @Test("with(database:) keeps the server and credentials")
    func otherDatabase() throws {
        let address = try PostgresAddress(url: "postgres://app:pw@localhost:5433/events?sslmode=disable")
        let other = address.with(database: "scratch")
        #expect(other.database == "scratch")
        #expect(other.host == "localhost" && other.port == 5433 && other.password == "pw" && other.tls == .disable)
    }
}
