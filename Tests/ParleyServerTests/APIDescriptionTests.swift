import Foundation
import ParleyServer
import Testing

/// The published API description (`GET /openapi.json`) against the routes the running server registered: every
/// route under `/api/v1` and `/v1` documented, every documented route real, each operation well formed.
@Suite struct APIDescriptionTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        try await TestParley.with { parley in
            let reply = try await parley.request(.GET, "/openapi.json", headers: ["Authorization": "", "Cookie": ""])
            #expect(reply.status == 200 && reply.headers["content-type"]?.hasPrefix("application/json") == true, "\(reply.status)")
            #expect(reply.json["openapi"] as? String == "3.1.0")
            let paths = try #require(reply.json["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths {
                for (method, value) in operations {
                    documented.insert("\(method.uppercased()) \(path)")
                    let operation = try #require(value as? [String: Any])
                    #expect((operation["summary"] as? String)?.isEmpty == false, "\(method) \(path) has a summary")
                    #expect((operation["responses"] as? [String: Any])?["4XX"] != nil, "\(method) \(path) documents its errors")
                    let named = Set((operation["parameters"] as? [[String: Any]] ?? []).filter { $0["in"] as? String == "path" }
                        .compactMap { $0["name"] as? String })
                    let inPath = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
                    #expect(named == inPath, "\(method) \(path): path parameters \(named) vs \(inPath)")
                }
            }
            let routes = try #require(parley.server.service as? ParleyApplication).routes
            let published = Set(routes.map(\.description).filter { route in
                let path = route.split(separator: " ").last ?? ""
                return path.hasPrefix("/api/v1/") || path.hasPrefix("/v1/")
            })
            #expect(published.subtracting(documented).isEmpty, "routes missing from /openapi.json: \(published.subtracting(documented).sorted())")
            #expect(documented.subtracting(published).isEmpty, "documented routes the server lacks: \(documented.subtracting(published).sorted())")
            #expect(documented.count > 80)
        }
    }
}
