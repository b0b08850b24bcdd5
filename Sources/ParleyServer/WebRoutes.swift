import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves the web UI: the page at `/` and `/c/{id}` (the client routes), its files under
/// `/assets/{version}/{name}`, gzip-compressed for clients that accept it, with ETags and a strict
/// Content-Security-Policy (no inline scripts or styles, nothing from other origins).
struct WebRoutes {
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
        "frame-ancestors 'none'",
    ].joined(separator: "; ")
    /// The visitors' page may be framed by the sites its assistant names (`embed_origins`; any site when it names
    /// none): the widget; it reads and shows nothing but its own chat.
    static func visitorContentSecurityPolicy(origins: [String]) -> String {
        contentSecurityPolicy.replacingOccurrences(
            of: "frame-ancestors 'none'", with: "frame-ancestors " + (origins.isEmpty ? "*" : origins.joined(separator: " ")))
    }

    let assets: WebAssets
    /// The sites that may frame a published assistant's page, by its address (checked when it was set).
    var embedOrigins: @Sendable (String) async -> [String] = { _ in [] }

    func register(on router: some RouterMethods<ParleyRequestContext>) {
        router.get("/", use: page)
        router.get("c/:id", use: page)
        router.get("assets/:version/:name", use: asset)
        router.get("a/:slug", use: visitorPage)
        router.get("s/:token", use: sharedPage)
        router.get("widget.js", use: widget)
    }

    @Sendable func visitorPage(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let slug = context.parameters.get("slug") ?? ""
        let origins = VisitorToken.isSlug(slug) ? await embedOrigins(slug) : []
        return serve(assets.visitorPage, request: request, cacheControl: "no-cache",
                     policy: Self.visitorContentSecurityPolicy(origins: origins))
    }

    /// A shared link's page: never framed, never cached by others, and its address (the token) never sent on as
    /// a referrer.
    @Sendable func sharedPage(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var response = serve(assets.sharedPage, request: request, cacheControl: "private, no-cache")
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }

    /// The widget's script, at a fixed address for other sites to include: cached for an hour.
    @Sendable func widget(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        guard let file = assets.files["widget.js"] else { throw ClientError.notFound("no such file") }
        var response = serve(file, request: request, cacheControl: "public, max-age=3600")
        response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "cross-origin"
        return response
    }

    @Sendable func page(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        serve(assets.page, request: request, cacheControl: "no-cache")
    }

    @Sendable func asset(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        guard let name = context.parameters.get("name"), let file = assets.files[name] else {
            throw ClientError.notFound("no such file")
        }
        // Files of another version (a page from before an upgrade) are served too, but not kept.
        let current = context.parameters.get("version") == assets.version
        return serve(file, request: request, cacheControl: current ? "public, max-age=31536000, immutable" : "no-cache")
    }

    private func serve(_ file: WebAsset, request: Request, cacheControl: String,
                       policy: String = Self.contentSecurityPolicy) -> Response {
        var headers: HTTPFields = [
            .contentType: file.contentType,
            .cacheControl: cacheControl,
            .eTag: file.etag,
            .vary: "Accept-Encoding",
            .contentSecurityPolicy: policy,
        ]
        if let tags = request.headers.value(of: .ifNoneMatch), tags.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == file.etag
        }) {
            return Response(status: .notModified, headers: headers)
        }
        var body = file.body
        if let gzipped = file.gzipped, Self.acceptsGzip(request) {
            body = gzipped
            headers[.contentEncoding] = "gzip"
        }
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    static func acceptsGzip(_ request: Request) -> Bool {
        guard let accept = request.headers.value(of: .acceptEncoding)?.lowercased() else { return false }
        return accept.split(separator: ",").contains { coding in
            let parts = coding.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.first == "gzip" && !parts.dropFirst().contains("q=0")
        }
    }
}
