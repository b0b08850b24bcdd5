import ParleyServer
import Testing

@Suite struct AllowedHostsTests {
    @Test func namesPortsAddressesAndSpacesAreReadAsBrowsersSendThem() {
        let hosts = AllowedHosts(names: [" Chat.Example.COM. ", "*.not-a-wildcard", ""]).addingDefaults(listenHost: "0.0.0.0")
        let allowed = ["chat.example.com", "CHAT.example.com:8080", " chat.example.com \t", "chat.example.com.", "localhost:3000",
                       "127.0.0.1", "10.1.2.3:80", "[::1]:8080", "[2001:db8::1]", "0.0.0.0", "[2001:DB8::A]:443", "001.02.3.255",
                       "[::ffff:10.0.0.1]", "Localhost.:3000"]
        let refused = ["evil.example", "chat.example.com.evil.example", "", " ", ":8080", "[::1", "256.1.1.1", "1.2.3",
                       "1.2.3.4.5", "chat.example.co", "[evil.example]:80", "localhost.evil.example", "\u{A0}localhost",
                       "1..2.3", "1.2.3.", "1234.1.1.1", "1.2.3.4a", "[::g]", "１２７.0.0.1", "[１::1]"]
        for authority in allowed { #expect(hosts.allows(authority: authority), "\(authority.debugDescription)") }
        for authority in refused { #expect(!hosts.allows(authority: authority), "\(authority.debugDescription)") }
        #expect(AllowedHosts(names: ["*"]).allows(authority: "anything.example"))
    }
}
