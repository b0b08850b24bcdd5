import AsyncHTTPClient
import Foundation
import NIOCore
import ParleyCore
import Testing
@testable import ParleyServer

/// Attachments through the real server: images reach a vision model as content parts, files' text reaches the
/// context, both are stored once and served back to their owner only, and wrong or oversized uploads are refused
/// before they finish arriving.
@Suite struct AttachmentAPITests {
    /// A 1×1 PNG.
    static let png = Array(Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")!)

    static func upload(_ parley: TestParley, name: String, _ bytes: [UInt8], headers: [String: String] = [:]) async throws -> APIReply {
        var request = HTTPClientRequest(url: parley.baseURL + "/api/v1/attachments?name=" + name)
        request.method = .POST
        for (field, value) in parley.withCredentials(headers) { request.headers.add(name: field, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await parley.client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return APIReply(status: Int(response.status.code), headers: fields, body: String(buffer: body))
    }

    static func post(_ parley: TestParley, _ conversation: String, _ content: String, attachments: [String],
                     headers: [String: String] = [:]) async throws -> APIReply {
        let ids = attachments.map { "\"\($0)\"" }.joined(separator: ",")
        return try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                        body: "{\"content\":\(quoted(content)),\"attachments\":[\(ids)]}",
                                        headers: ["Accept": "application/json"].merging(headers) { $1 })
    }

    @Test func anImageReachesAVisionModelAsAContentPartAndStaysInTheHistory() async throws {
        try await TestParley.with(configure: { $0.visionModels = ModelNamePatterns(["mock-*"]) }) { parley in
            let uploaded = try await Self.upload(parley, name: "dot.png", Self.png)
            #expect(uploaded.status == 201, "\(uploaded.body)")
            #expect(uploaded.json["kind"] as? String == "image" && uploaded.json["media_type"] as? String == "image/png")
            #expect(uploaded.json["size"] as? Int == Self.png.count)
            let id = try #require(uploaded.json["id"] as? String)
            let again = try await Self.upload(parley, name: "same-dot.png", Self.png)
            #expect(again.status == 200 && again.json["id"] as? String == id, "the same bytes are stored once: \(again.body)")

            let conversation = try await parley.createConversation()
            let turn = try await Self.post(parley, conversation, "what is this? mock:echo=context mock:tokens=9", attachments: [id])
            #expect(turn.status == 201, "\(turn.body)")
            let answer = (turn.json["assistant"] as? [String: Any])?["content"] as? String ?? ""
            #expect(answer.contains("user: what is this? [image image/png \(Self.png.count) bytes]"), "\(answer)")
            let user = try #require(turn.json["user"] as? [String: Any])
            let shown = try #require((user["attachments"] as? [[String: Any]])?.first)
            #expect(shown["id"] as? String == id && shown["name"] as? String == "dot.png" && shown["kind"] as? String == "image")
            #expect(shown["url"] as? String == "/api/v1/attachments/\(id)/content")

            // The next turn still shows the model the image, from history; the page carries it on the question.
            let next = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                body: #"{"content":"and now? mock:echo=context mock:tokens=500"}"#, headers: ["Accept": "application/json"])
            let nextAnswer = (next.json["assistant"] as? [String: Any])?["content"] as? String ?? ""
            #expect(nextAnswer.contains("[image image/png \(Self.png.count) bytes]") && nextAnswer.contains("user: and now?"), "\(nextAnswer)")
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages")
            let first = try #require((page.json["data"] as? [[String: Any]])?.first)
            #expect((first["attachments"] as? [[String: Any]])?.first?["id"] as? String == id)

            // The bytes come back as they went, to their owner, as what they are.
            var request = HTTPClientRequest(url: parley.baseURL + "/api/v1/attachments/\(id)/content")
            for (field, value) in parley.withCredentials([:]) { request.headers.add(name: field, value: value) }
            let response = try await parley.client.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 200 && response.headers.first(name: "content-type") == "image/png")
            #expect(response.headers.first(name: "content-security-policy")?.hasPrefix("sandbox") == true)
            #expect(Array(buffer: try await response.body.collect(upTo: 1 << 20)) == Self.png)

            // A read-only link shows the attachment's name, not the attachment: the bytes stay their owner's.
            let share = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/shares", body: #"{"audience":"anyone"}"#)
            let token = try #require(share.json["token"] as? String, "\(share.body)")
            let nobody = ["Authorization": ""]
            let shared = try await parley.request(.GET, "/api/v1/shared/\(token)/messages", headers: nobody)
            let sharedQuestion = try #require((shared.json["data"] as? [[String: Any]])?.first)
            #expect((sharedQuestion["attachments"] as? [[String: Any]])?.first?["name"] as? String == "dot.png", "\(shared.body)")
            #expect(!shared.body.contains(id), "no attachment id in the shared view")
            #expect(try await parley.request(.GET, "/api/v1/attachments/\(id)/content", headers: nobody).status == 401)
        }
    }

    @Test func aFilesTextGoesIntoTheContextCutToTheBudget() async throws {
        try await TestParley.with(configure: { $0.limits.contextTokenBudget = 600 }) { parley in
            let notes = "# Plan\n\nThe password is swordfish.\n"
            let uploaded = try await Self.upload(parley, name: "notes.md", Array(notes.utf8))
            #expect(uploaded.status == 201 && uploaded.json["kind"] as? String == "file", "\(uploaded.body)")
            #expect(uploaded.json["media_type"] as? String == "text/markdown")
            let conversation = try await parley.createConversation()
            let turn = try await Self.post(parley, conversation, "summarise mock:echo=context mock:tokens=500",
                                           attachments: [try #require(uploaded.json["id"] as? String)])
            let answer = (turn.json["assistant"] as? [String: Any])?["content"] as? String ?? ""
            #expect(answer.contains("<file name=\"notes.md\">") && answer.contains("swordfish"), "\(answer)")

            // Asked again (a new version of the question): the attachments stay unless others are named.
            let question = try #require((turn.json["user"] as? [String: Any])?["id"] as? String)
            let again = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"summarise again mock:echo=context mock:tokens=500","replaces":"\#(question)"}"#,
                                                 headers: ["Accept": "application/json"])
            let againAnswer = (again.json["assistant"] as? [String: Any])?["content"] as? String
            #expect(againAnswer?.contains("swordfish") == true, "\(again.body)")
            let kept = try #require(again.json["user"] as? [String: Any])
            #expect((kept["attachments"] as? [[String: Any]])?.count == 1)
            let dropped = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                   body: #"{"content":"without it mock:echo=context mock:tokens=500","replaces":"\#(kept["id"] as? String ?? "")","attachments":[]}"#,
                                                   headers: ["Accept": "application/json"])
            let droppedAnswer = (dropped.json["assistant"] as? [String: Any])?["content"] as? String
            #expect(droppedAnswer?.hasPrefix("user: without it") == true && droppedAnswer?.contains("swordfish") == false,
                    "\(dropped.body)")
            #expect((dropped.json["user"] as? [String: Any])?["attachments"] == nil)

            // A file far larger than the budget is cut to what the budget leaves, and says so.
            let long = (0..<2_000).map { "line \($0) of the long report" }.joined(separator: "\n")
            let big = try await Self.upload(parley, name: "report.txt", Array(long.utf8))
            let bigTurn = try await Self.post(parley, conversation, "mock:echo=context mock:tokens=5000",
                                              attachments: [try #require(big.json["id"] as? String)])
            let bigAnswer = (bigTurn.json["assistant"] as? [String: Any])?["content"] as? String ?? ""
            #expect(bigAnswer.contains("line 0 of the long report") && !bigAnswer.contains("line 1999 "), "\(bigAnswer.suffix(300))")
            #expect(bigAnswer.contains("the rest of the file does not fit in the context"))

            // In later turns a long file counts (and is cut) at half the budget, so its question stays in the context.
            let later = try await parley.createConversation()
            let short = try await Self.post(parley, later, "read this mock:tokens=1", attachments: [try #require(big.json["id"] as? String)])
            #expect(short.status == 201)
            let next = try await parley.request(.POST, "/api/v1/conversations/\(later)/messages",
                                                body: #"{"content":"and? mock:echo=context mock:tokens=5000"}"#,
                                                headers: ["Accept": "application/json"])
            let nextAnswer = (next.json["assistant"] as? [String: Any])?["content"] as? String ?? ""
            #expect(nextAnswer.hasPrefix("user: read this") && nextAnswer.contains("line 0 of the long report")
                    && nextAnswer.contains("user: and?"), "\(nextAnswer.prefix(300))")
            let nextLines = nextAnswer.components(separatedBy: "of the long report").count - 1
            #expect(nextLines > 10 && nextLines < 60, "half the budget's worth: \(nextLines) lines")
            let lines = bigAnswer.components(separatedBy: "of the long report").count - 1
            #expect(lines > 20 && lines < 100, "about the budget's worth (600 tokens): \(lines) lines of 2,000")
        }
    }

    @Test func anImageForAModelThatTakesNoneIsRefusedBeforeAnythingIsStored() async throws {
        try await TestParley.with { parley in
            let id = try #require(try await Self.upload(parley, name: "dot.png", Self.png).json["id"] as? String)
            let conversation = try await parley.createConversation()
            let refused = try await Self.post(parley, conversation, "what is this?", attachments: [id])
            #expect(refused.status == 400, "\(refused.body)")
            #expect(refused.body.contains("does not take images: pick a model that does"), "\(refused.body)")
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages")
            #expect((page.json["data"] as? [Any])?.isEmpty == true, "nothing was stored: \(page.body)")
            let models = try await parley.request(.GET, "/api/v1/models")
            #expect((models.json["data"] as? [[String: Any]])?.allSatisfy { $0["vision"] as? Bool == false } == true, "\(models.body)")
        }
    }

    @Test func badUploadsAndOtherUsersAttachmentsGetClearErrors() async throws {
        try await TestParley.with { parley in
            let id = try #require(try await Self.upload(parley, name: "notes.md", Array("# mine".utf8)).json["id"] as? String)
            #expect(try await Self.upload(parley, name: "empty.txt", []).status == 400)
            #expect(try await Self.upload(parley, name: "tool.exe", Array("MZ\u{0}\u{0}binary".utf8)).status == 415)
            let pdf = try await Self.upload(parley, name: "broken.pdf", Array("%PDF-1.4 not really a pdf".utf8))
            #expect(pdf.status == 422 && pdf.body.contains("could not be read"), "\(pdf.body)")
            var noName = HTTPClientRequest(url: parley.baseURL + "/api/v1/attachments")
            noName.method = .POST
            for (field, value) in parley.withCredentials([:]) { noName.headers.add(name: field, value: value) }
            noName.body = .bytes(ByteBuffer(string: "text"))
            #expect(try await parley.client.execute(noName, timeout: .seconds(10)).status.code == 400)
            #expect(try await Self.upload(parley, name: "form", Array("x".utf8), headers: ["Content-Type": "multipart/form-data; boundary=x"]).status == 415)

            let conversation = try await parley.createConversation()
            #expect(try await Self.post(parley, conversation, "hi", attachments: ["not-an-id"]).status == 400)
            #expect(try await Self.post(parley, conversation, "hi", attachments: [id, id]).status == 400)
            #expect(try await Self.post(parley, conversation, "hi", attachments: Array(repeating: id, count: 11)).status == 400)
            #expect(try await Self.post(parley, conversation, " ", attachments: []).status == 400, "no text and no attachment")

            // Another user: the attachment does not exist for them, in any call.
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            #expect(try await parley.request(.GET, "/api/v1/attachments/\(id)", headers: bob.headers).status == 404)
            #expect(try await parley.request(.GET, "/api/v1/attachments/\(id)/content", headers: bob.headers).status == 404)
            #expect(try await parley.request(.DELETE, "/api/v1/attachments/\(id)", headers: bob.headers).status == 404)
            let bobs = try #require(try await parley.request(.POST, "/api/v1/conversations", body: "{}", headers: bob.headers).json["id"] as? String)
            #expect(try await Self.post(parley, bobs, "hi", attachments: [id], headers: bob.headers).status == 404)

            // Deleted: gone for its owner too; a message that carried it keeps its name and tells the model.
            let turn = try await Self.post(parley, conversation, "mock:tokens=1", attachments: [id])
            #expect(turn.status == 201)
            #expect(try await parley.request(.DELETE, "/api/v1/attachments/\(id)").status == 204)
            #expect(try await parley.request(.GET, "/api/v1/attachments/\(id)").status == 404)
            let after = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"mock:echo=context mock:tokens=500"}"#, headers: ["Accept": "application/json"])
            let afterAnswer = (after.json["assistant"] as? [String: Any])?["content"] as? String
            #expect(afterAnswer?.contains("[File notes.md was deleted]") == true, "\(after.body)")
        }
    }

    @Test func aWrongOrOversizedUploadIsRefusedBeforeItFinishes() async throws {
        try await TestParley.with(configure: { $0.maxAttachmentBytes = 64 << 10 }) { parley in
            let authorization = try #require(parley.withCredentials([:])["Authorization"])
            let head = "POST /api/v1/attachments?name=x.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\n"
            let answered: @Sendable (String) -> Bool = { $0.contains("\r\n\r\n") && $0.contains("}") }

            // A binary file announced at 60 KB: refused on its first bytes, the rest never sent.
            let binary = String(repeating: "MZ\u{0}\u{1}", count: 200)
            let wrong = try await RawHTTP.exchange(port: parley.port, head + "Content-Length: 61440\r\n\r\n" + binary,
                                                   wait: .seconds(10), leaveWhen: answered)
            #expect(wrong.status == 415, "\(wrong)")

            // Announced larger than the limit: refused before any of it is sent.
            let announced = try await RawHTTP.exchange(port: parley.port, head + "Content-Length: 10000000\r\n\r\n",
                                                       wait: .seconds(10), leaveWhen: answered)
            #expect(announced.status == 413, "\(announced)")

            // Chunked, so nothing is announced: refused once it passes the limit, with the end still unsent.
            let chunk = String(repeating: "text ", count: 2_000)
            let chunks = String(repeating: String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n", count: 8)
            let streamed = try await RawHTTP.exchange(port: parley.port, head + "Transfer-Encoding: chunked\r\n\r\n" + chunks,
                                                      wait: .seconds(10), leaveWhen: answered)
            #expect(streamed.status == 413, "\(streamed)")

            // Nothing of them was kept.
            #expect(try await Self.upload(parley, name: "ok.txt", Array("fine".utf8)).status == 201)
        }
    }
}
