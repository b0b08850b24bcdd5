import HTTPTypes
import Testing
@testable import ParleyServer

/// Headers are read through `value(of:)`: the same answer as the library's subscript, whatever the fields hold.
@Suite struct HTTPFieldValueTests {
    @Test func aValueIsWhatTheSubscriptGives() {
        var fields: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sk-1"]
        fields.append(HTTPField(name: .accept, value: "text/html"))
        fields.append(HTTPField(name: .accept, value: "application/json"))
        fields.append(HTTPField(name: .cookie, value: "a=1"))
        fields.append(HTTPField(name: .cookie, value: "b=2"))
        fields.append(HTTPField(name: HTTPField.Name("X-Empty")!, value: ""))
        let names: [HTTPField.Name] = [.contentType, .authorization, .accept, .cookie, HTTPField.Name("x-empty")!,
                                       .origin, HTTPField.Name("Content-TYPE")!]
        for name in names {
            #expect(fields.value(of: name) == fields[name], "\(name)")
        }
        #expect(fields.value(of: .accept) == "text/html, application/json")
        #expect(fields.value(of: .cookie) == "a=1; b=2")
        #expect(fields.value(of: HTTPField.Name("content-type")!) == "application/json")
        #expect(fields.value(of: .origin) == nil)
        #expect(HTTPFields().value(of: .accept) == nil)
    }
}
