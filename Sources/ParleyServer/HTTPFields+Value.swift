import HTTPTypes

extension HTTPFields {
    /// The value of the field `name` as `self[name]` gives it (several fields joined with ", ", cookies with "; "),
    /// without the joining when there is one field, as there nearly always is: the subscript joins a lazy
    /// sequence of values on every read, thousands of instructions for one header. Parley reads headers only so.
    func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }
            found = field.value
        }
        return found
    }
}
