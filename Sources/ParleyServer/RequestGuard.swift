import HTTPTypes
import Hummingbird
import ParleyCore

/// Headers every response carries, JSON and errors included.
enum SecurityHeaders {
    static let contentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let strictTransportSecurity = HTTPField.Name("Strict-Transport-Security")!

    /// With `https` (users come over TLS, through a proxy), browsers are told to use nothing else for a year.
    static func add(to headers: inout HTTPFields, https: Bool) {
        headers[contentTypeOptions] = "nosniff"
        if headers.value(of: referrerPolicy) == nil { headers[referrerPolicy] = "same-origin" }
        // Older browsers' form of the pages' `frame-ancestors 'none'`: no page of Parley's is framed elsewhere —
        // but the visitors' page of a published assistant, which the widget frames on other sites (its CSP names
        // them; browsers that read CSP ignore this header where both are sent, so it is left off there).
        let policy = headers.value(of: .contentSecurityPolicy)
        if policy == nil || policy?.contains("frame-ancestors 'none'") == true { headers[frameOptions] = "DENY" }
        if https { headers[strictTransportSecurity] = "max-age=31536000" }
    }
}

/// The methods ``RequestGuard`` lets through (and the access log's metrics name; any other is `other`: a client
/// can send any token as a method), and those that change nothing.
enum HTTPMethods {
    static let implemented: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]
    static let safe: Set<HTTPRequest.Method> = [.get, .head, .options]
}

/// The first check of every request, before any route runs:
/// - methods no route allows (`TRACE`, WebDAV's) get a JSON `405` with `Allow`; `CONNECT` a `501`;
/// - a `Host` that is not one of ``AllowedHosts`` gets a `403`, so a page using DNS rebinding to reach a
///   server on loopback cannot read from it;
/// - a cross-site request that changes state (a browser says so with `Sec-Fetch-Site` or `Origin`) gets a
///   `403`, so a page elsewhere cannot drive the API through a visitor's browser; requests with an
///   `Authorization` header are exempt (a browser cannot send one cross-site without a preflight Parley never
///   grants);
/// - a `Content-Length` above the body limit gets a `413` at once, and the connection closes;
/// - every response, errors included, carries ``SecurityHeaders``.
struct RequestGuard<Context: RequestContext>: RouterMiddleware {
    let allowedHosts: AllowedHosts
    let maxBodyBytes: Int
    /// The limit of document uploads (``isUpload(_:)``), which are files rather than JSON.
    var maxUploadBytes = 0
    /// The limit of export files imported (``isImport(_:)``), read as a stream.
    var maxImportBytes = 0
    /// The limit of files attached to messages (``isAttachment(_:)``).
    var maxAttachmentBytes = 0
    /// Users come over HTTPS (`secure_cookies`): responses carry HSTS.
    var https = false

    /// `POST /api/v1/knowledge-bases/{id}/documents`: a document upload.
    static func isUpload(_ request: Request) -> Bool {
        guard request.method == .post else { return false }
        let path = request.uri.path
        // Checked before splitting, so other requests pay for no array of parts.
        guard path.hasPrefix("/api/v1/knowledge-bases/"), path.hasSuffix("/documents") else { return false }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 6 && parts[1] == "api" && parts[2] == "v1" && parts[3] == "knowledge-bases" && parts[5] == "documents"
    }

    /// An export file brought in from another chat app: its own, larger limit.
    static func isImport(_ request: Request) -> Bool {
        request.method == .post && request.uri.path == "/api/v1/imports"
    }

    /// `POST /api/v1/attachments`: a file or image for a message.
    static func isAttachment(_ request: Request) -> Bool {
        request.method == .post && request.uri.path == "/api/v1/attachments"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            try check(request)
            response = try await next(request, context)
        } catch {
            // Refused here, before the router's error middleware, or failed in it (it answers everything it can).
            response = ErrorMiddleware<Context>.response(for: error, to: request, logger: context.logger)
        }
        SecurityHeaders.add(to: &response.headers, https: https)
        return response
    }

    private func check(_ request: Request) throws {
        func refuse(_ status: HTTPResponse.Status, _ type: String, _ message: String, close: Bool = false) -> ClientError {
            var error = ClientError(status, type: type, message: message, code: type)
            if close { error.headers[.connection] = "close" }
            return error
        }
        guard HTTPMethods.implemented.contains(request.method) else {
            // CONNECT asks for a tunnel, which no resource here offers; any other method (TRACE, WebDAV's) is
            // one no resource here allows.
            guard request.method == .connect else {
                var error = refuse(.methodNotAllowed, "method_not_allowed",
                                   "this server allows GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS only", close: true)
                error.headers[.allow] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
                throw error
            }
            throw refuse(.notImplemented, "method_not_implemented",
                         "this server implements GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS only", close: true)
        }
        if let authority = request.head.authority, !allowedHosts.allows(authority: authority) {
            throw refuse(.forbidden, "host_not_allowed",
                         "this server does not answer to the host name in this request; add it to PARLEY_ALLOWED_HOSTS")
        }
        if !HTTPMethods.safe.contains(request.method), request.headers.value(of: .authorization) == nil,
           let site = CrossSiteCheck.refusal(origin: request.headers.value(of: .origin),
                                             fetchSite: request.headers.value(of: SecurityHeaders.secFetchSite),
                                             authority: request.head.authority) {
            throw refuse(.forbidden, "cross_site_request", site)
        }
        let limit = Self.isUpload(request) ? max(maxUploadBytes, maxBodyBytes)
            : Self.isImport(request) ? max(maxImportBytes, maxBodyBytes)
            : Self.isAttachment(request) ? maxAttachmentBytes : maxBodyBytes
        if let length = request.headers.value(of: .contentLength),
           let bytes = CheckedNumber.integer(length, in: 0...Int.max / 2), bytes > limit {
            throw refuse(.contentTooLarge, "payload_too_large", "the request body is larger than \(limit) bytes", close: true)
        }
    }
}

/// Whether a browser says a state-changing request comes from a page on another site.
enum CrossSiteCheck {
    /// Why the request is refused, or `nil` when it may go ahead: `Sec-Fetch-Site` must be `same-origin` or
    /// `none` (typed by the user); without it, an `Origin` must name this server's own authority. Requests with
    /// neither header do not come from a browser page.
    static func refusal(origin: String?, fetchSite: String?, authority: String?) -> String? {
        if let fetchSite {
            switch fetchSite.lowercased() {
            case "same-origin", "none": return nil
            default: return "requests from another site may not change anything here (Sec-Fetch-Site: \(fetchSite.prefix(40)))"
            }
        }
        guard let origin else { return nil }
        if let authority, let originAuthority = Self.authority(ofOrigin: origin), originAuthority == authority.lowercased() {
            return nil
        }
        return "requests from another site may not change anything here (Origin: \(origin.prefix(100)))"
    }

    /// `host:port` of an origin such as `http://127.0.0.1:8080`, lowercased; `nil` for `null` and anything else.
    static func authority(ofOrigin origin: String) -> String? {
        let lowered = origin.lowercased()
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            let rest = lowered.dropFirst(scheme.count)
            guard !rest.isEmpty, !rest.contains("/") else { return nil }
            return String(rest)
        }
        return nil
    }
}
