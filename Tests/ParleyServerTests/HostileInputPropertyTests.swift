import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyServer
import PropertyBased
import Testing

/// Generated hostile requests against every route the server registered (its own list, so a new route is
/// covered without editing this file): garbage path parameters, query values, headers and bodies. Whatever is
/// sent, the answer is never a 5xx, an error is always Parley's JSON shape, and the server keeps answering.
@Suite struct HostileInputPropertyTests {
    /// Query names the routes read, and a few they do not.
    static let queryNames = ["limit", "before", "after", "cursor", "q", "offset", "last_event_id", "x", ""]
    static let headerNames = ["Last-Event-ID", "x-parley-cache-control", "x-parley-timeout", "x-parley-cache-namespace",
                              "Content-Type", "Accept-Encoding", "If-None-Match", "Authorization"]
    /// Values chosen to break parsers: overflowing and negative numbers, exponents, NUL, escapes, long text.
    static let hostileValues = [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-1", "0", "1e308", "1e400", "NaN", "inf",
        "0x10", "٣", "%00", "%ZZ", "%C3%28", "%F0%9F%98%80", "=", ",", ";", "\"", "'", "\\", "{}", "[]", "null",
        String(repeating: "9", count: 400), String(repeating: "a", count: 5000), "bWlsbGlzOmlk", "MTox", "ttl=", "no-cache,=",
    ]
    /// Bodies that are not what any route wants, or almost.
    static let hostileBodies: [[UInt8]] = [
        [], Array("{".utf8), Array("}".utf8), Array("[]".utf8), Array("null".utf8), Array("\"x\"".utf8), Array("1e999".utf8),
        Array("{\"content\":\"x\",}".utf8), Array("{\"content\":\"x\",\"content\":\"y\"}".utf8), [0xEF, 0xBB, 0xBF, 0x7B, 0x7D],
        [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00], Array("{\"content\":\"\\ud800\"}".utf8), Array("{\"content\":\"\u{0}\"}".utf8),
        Array("{\"rating\":9223372036854775808}".utf8), Array("{\"rating\":1e400}".utf8), Array("{\"rating\":-0}".utf8),
        Array("{\"title\":[\"x\"],\"model\":{}}".utf8), Array("{\"content\":1}".utf8), Array("{\"content\":\"hi\",\"replaces\":\"\"}".utf8),
        Array(("{\"a\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}").utf8),
        Array("{\"model\":\"mock-1\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":9223372036854775807}".utf8),
        Array("{\"model\":\"mock-1\",\"messages\":\"x\"}".utf8), Array("{\"model\":\"mock-1\",\"input\":[[1,2],{}]}".utf8),
        Array("{\"model\":\"mock-1\",\"messages\":[],\"cache\":{\"ttl\":-1}}".utf8),
    ]

    /// One generated request: indexes into the pools above, plus random bytes.
    struct Draw: Sendable {
        var route: Int
        var pathValue: Int
        var query: [Int]
        var header: Int
        var body: Int
        var noise: [UInt8]
    }

    @Test func generatedHostileRequestsNeverGetA5xxOrKillTheServer() async throws {
        try await TestParley.with(configure: { $0.limits.maxMessageCharacters = 2000 }) { parley in
            let server = try #require(parley.server.service as? ParleyApplication)
            let routes = server.routes
            #expect(routes.count >= 20, "the server lists its routes: \(routes)")
            var pathValues = ["not-a-uuid", "01a1ff49-b25e-7b99-94de-0d2bac8a9592", "%00", "..", "%2F..%2F", "9223372036854775808",
                              String(repeating: "x", count: 3000), "mock-1"]
            for _ in 0..<3 {
                let conversation = try await parley.createConversation()
                let events = try await parley.chat(conversation, "hello mock:tokens=2")
                pathValues.append(conversation)
                if let user = events.first?.data["id"] as? String { pathValues.append(user) }
                if let assistant = events.last?.data["id"] as? String { pathValues.append(assistant) }
            }
            let pools = (routes: routes, paths: pathValues)
            let draws = Gen.int(in: 0...(routes.count - 1)).map { route in route }
            let details = Gen.int(in: 0...10_000).array(of: 6)
            let noise = Gen.int(in: 0...255).array(of: 0...48)
            var checked = 0
            await propertyCheck(count: 400, input: draws, details, noise) { route, numbers, noise in
                let draw = Draw(route: route, pathValue: numbers[0], query: [numbers[1], numbers[2]], header: numbers[3],
                                body: numbers[4], noise: noise.map { UInt8($0) })
                do {
                    try await Self.send(draw, pools: pools, to: parley)
                    checked += 1
                } catch {
                    Issue.record("\(Self.describe(draw, pools: pools)): the request failed: \(error)")
                }
            }
            #expect(checked == 400)
            let live = try await parley.request(.GET, "/health/live")
            #expect(live.status == 200)
        }
    }

    static func describe(_ draw: Draw, pools: (routes: [Route], paths: [String])) -> String {
        "\(pools.routes[draw.route]) value \(draw.pathValue % pools.paths.count) body \(draw.body % (hostileBodies.count + 1))"
    }

    static func send(_ draw: Draw, pools: (routes: [Route], paths: [String]), to parley: TestParley) async throws {
        let route = pools.routes[draw.route]
        let value = pools.paths[draw.pathValue % pools.paths.count]
        var path = route.path.split(separator: "/").map { segment -> String in
            segment.hasPrefix(":") || segment.hasPrefix("{") ? value : String(segment)
        }.joined(separator: "/")
        path = "/" + path
        let queryPairs = draw.query.map { number in
            let name = queryNames[number % queryNames.count]
            let raw = hostileValues[(number / queryNames.count) % hostileValues.count]
            let encoded = raw.contains("%") ? raw : (raw.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? raw)
            return "\(name)=\(encoded)"
        }
        if draw.query[0] % 3 != 0 { path += "?" + queryPairs.joined(separator: "&") }

        var request = HTTPClientRequest(url: parley.baseURL + path)
        request.method = HTTPMethod(rawValue: route.method)
        let headerName = headerNames[draw.header % headerNames.count]
        request.headers.add(name: headerName, value: hostileValues[(draw.header / headerNames.count) % hostileValues.count]
            .filter { $0 != "\r" && $0 != "\n" })
        if ["POST", "PUT", "PATCH"].contains(route.method) {
            let choice = draw.body % (hostileBodies.count + 1)
            let bytes = choice == hostileBodies.count ? draw.noise : hostileBodies[choice]
            request.body = .bytes(ByteBuffer(bytes: bytes))
            if headerName != "Content-Type" { request.headers.add(name: "Content-Type", value: "application/json") }
        }
        let response = try await parley.client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        let status = Int(response.status.code)
        let text = String(buffer: body)
        let label = "\(route.method) \(path.prefix(200)) [\(headerName)] → \(status)"
        #expect(status < 500, "\(label): \(text.prefix(300))")
        guard status >= 400 else { return }
        #expect(response.headers.first(name: "content-type")?.hasPrefix("application/json") == true, "\(label)")
        let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        let error = json?["error"] as? [String: Any]
        #expect(error?["message"] is String, "\(label): \(text.prefix(300))")
    }
}
