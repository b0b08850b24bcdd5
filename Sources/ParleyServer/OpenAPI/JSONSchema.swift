import Foundation

/// A JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses), as the value it is written as: small constructors for the
/// shapes Parley's API description needs.
struct JSONSchema: @unchecked Sendable {
    /// A JSON object as `JSONSerialization` writes it.
    let value: [String: Any]

    static let any = JSONSchema(value: [:])
    static let boolean = JSONSchema(value: ["type": "boolean"])
    static let number = JSONSchema(value: ["type": "number"])
    static let uuid = JSONSchema(value: ["type": "string", "format": "uuid"])
    static let email = JSONSchema(value: ["type": "string", "format": "email", "maxLength": 320])

    static func string(maxLength: Int? = nil, enum values: [String]? = nil) -> JSONSchema {
        var schema: [String: Any] = ["type": "string"]
        if let maxLength { schema["maxLength"] = maxLength }
        if let values { schema["enum"] = values }
        return JSONSchema(value: schema)
    }

    static func integer(_ range: ClosedRange<Int>? = nil) -> JSONSchema {
        var schema: [String: Any] = ["type": "integer"]
        if let range {
            schema["minimum"] = range.lowerBound
            schema["maximum"] = range.upperBound
        }
        return JSONSchema(value: schema)
    }

    static func array(_ items: JSONSchema, maxItems: Int? = nil) -> JSONSchema {
        var schema: [String: Any] = ["type": "array", "items": items.value]
        if let maxItems { schema["maxItems"] = maxItems }
        return JSONSchema(value: schema)
    }

    /// An object with these properties; others are allowed unless `closed`.
    static func object(_ properties: [String: JSONSchema], required: [String] = [], closed: Bool = false) -> JSONSchema {
        var schema: [String: Any] = ["type": "object", "properties": properties.mapValues(\.value)]
        if !required.isEmpty { schema["required"] = required }
        if closed { schema["additionalProperties"] = false }
        return JSONSchema(value: schema)
    }

    /// This schema, or `null`.
    var orNull: JSONSchema { JSONSchema(value: ["anyOf": [value, ["type": "null"]]]) }

    /// A reference to a schema of `components/schemas`.
    static func ref(_ name: String) -> JSONSchema { JSONSchema(value: ["$ref": "#/components/schemas/\(name)"]) }
}
