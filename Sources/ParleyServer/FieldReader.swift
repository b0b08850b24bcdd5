import Foundation

extension API {
    /// Any field of a JSON object, for bodies read field by field.
    struct FieldKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// One field of an object read field by field (`parameters`, `retrieval`), so that a value of the wrong type or an
    /// unknown field is reported by name rather than ignored.
    struct FieldReader {
        let container: KeyedDecodingContainer<FieldKey>
        let key: FieldKey
        /// The field as reported: `object.name`.
        let field: String
        /// The first problem of the whole object, shared by its fields.
        var problem: (message: String, field: String)?

        /// The value as `type`, or nil.
        func attempt<T: Decodable>(_ type: T.Type) -> T? { try? container.decode(type, forKey: key) }

        /// The value as `type`; when it is not one, nil and (if nothing went wrong before) "must be `kind`".
        mutating func value<T: Decodable>(_ type: T.Type, _ kind: String) -> T? {
            if let value = attempt(type) { return value }
            if problem == nil { problem = ("'\(field)' must be \(kind)", field) }
            return nil
        }

        /// Calls `read` with each field of the object `name` that is not null; `read` returns false for a field it does
        /// not know, which is reported as not one of `fields` (`kind` names what they are). Returns the first problem.
        static func read(_ decoder: any Decoder, object name: String, fields: [String], kind: String,
                         _ read: (inout FieldReader) -> Bool) throws -> (message: String, field: String)? {
            let container = try decoder.container(keyedBy: FieldKey.self)
            var problem: (message: String, field: String)?
            for key in container.allKeys where try !container.decodeNil(forKey: key) {
                var reader = FieldReader(container: container, key: key, field: name + "." + key.stringValue, problem: problem)
                if !read(&reader), reader.problem == nil {
                    reader.problem = ("'\(reader.field)' is not \(kind); use \(fields.joined(separator: ", "))", reader.field)
                }
                problem = reader.problem
            }
            return problem
        }
    }
}
