import CompressNIO
import Crypto
import Foundation
import NIOCore
import ParleyCore

/// One file of the web UI, ready to serve: its bytes, its gzip form (when smaller) and a strong ETag.
struct WebAsset: Sendable {
    let contentType: String
    let body: ByteBuffer
    let gzipped: ByteBuffer?
    let etag: String

    init(name: String, bytes: some Collection<UInt8>) {
        contentType = Self.contentType(of: name)
        let plain = ByteBuffer(bytes: bytes)
        var source = plain
        let compressed = try? source.compress(with: .gzip)
        body = plain
        gzipped = compressed.flatMap { $0.readableBytes < plain.readableBytes ? $0 : nil }
        etag = "\"" + Hex.encode(SHA256.hash(data: Array(bytes)).prefix(12)) + "\""
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }
}

/// The web UI: the HTML page and the files it loads, compiled into the binary (or read from a folder at
/// start-up, for working on the UI). Files are served under `/assets/{version}/`, where the version is a hash
/// of all of them, so browsers may keep them forever and still get a new release at once; the page itself
/// names the version and is revalidated on every load.
struct WebAssets: Sendable {
    /// The page served at `/` and `/c/{id}`.
    let page: WebAsset
    /// The page anonymous visitors chat on, at `/a/{address}`.
    let visitorPage: WebAsset
    /// The page a shared link shows, at `/s/{token}`.
    let sharedPage: WebAsset
    let files: [String: WebAsset]
    let version: String

    /// Name and bytes of every file in `Web/`, as the package embeds them.
    static let embeddedFiles: [(name: String, bytes: [UInt8])] = [
        ("index.html", PackageResources.index_html), ("app.css", PackageResources.app_css),
        ("icon.svg", PackageResources.icon_svg), ("app.js", PackageResources.app_js),
        ("api.js", PackageResources.api_js), ("dom.js", PackageResources.dom_js),
        ("markdown.js", PackageResources.markdown_js), ("sidebar.js", PackageResources.sidebar_js),
        ("chat.js", PackageResources.chat_js), ("message-view.js", PackageResources.message_view_js),
        ("scroll-keeper.js", PackageResources.scroll_keeper_js),
        ("settings.js", PackageResources.settings_js), ("export.js", PackageResources.export_js),
        ("auth.js", PackageResources.auth_js), ("account.js", PackageResources.account_js),
        ("usage.js", PackageResources.usage_js), ("admin.js", PackageResources.admin_js),
        ("knowledge.js", PackageResources.knowledge_js), ("citations.js", PackageResources.citations_js),
        ("attachments.js", PackageResources.attachments_js), ("maths.js", PackageResources.maths_js),
        ("assistants.js", PackageResources.assistants_js),
        ("visitor.html", PackageResources.visitor_html), ("visitor.js", PackageResources.visitor_js),
        ("visitor.css", PackageResources.visitor_css), ("widget.js", PackageResources.widget_js),
        ("shortcuts.js", PackageResources.shortcuts_js), ("prompts.js", PackageResources.prompts_js),
        ("shared.html", PackageResources.shared_html), ("shared.js", PackageResources.shared_js),
        ("share.js", PackageResources.share_js), ("highlight.js", PackageResources.highlight_js),
        ("public-sources.js", PackageResources.public_sources_js),
    ]

    static let embedded = WebAssets(files: embeddedFiles)

    /// The files of a folder laid out like `Web/` (the `web_dir` setting).
    static func load(directory: String) throws -> WebAssets {
        let files = try embeddedFiles.map { file -> (name: String, bytes: [UInt8]) in
            let path = URL(fileURLWithPath: directory).appendingPathComponent(file.name).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ParleyError.invalid("web_dir: cannot read \(path)")
            }
            return (file.name, Array(data))
        }
        return WebAssets(files: files)
    }

    init(files: [(name: String, bytes: [UInt8])]) {
        var digest = SHA256()
        for file in files where !file.name.hasSuffix(".html") { digest.update(data: file.bytes) }
        version = Hex.encode(digest.finalize().prefix(6))
        var assets: [String: WebAsset] = [:]
        var pages: [String: WebAsset] = [:]
        for file in files {
            if file.name.hasSuffix(".html") {
                let html = String(decoding: file.bytes, as: UTF8.self).replacingOccurrences(of: "{{version}}", with: version)
                pages[file.name] = WebAsset(name: file.name, bytes: Array(html.utf8))
            } else {
                assets[file.name] = WebAsset(name: file.name, bytes: file.bytes)
            }
        }
        self.page = pages["index.html"] ?? WebAsset(name: "index.html", bytes: [])
        self.visitorPage = pages["visitor.html"] ?? WebAsset(name: "visitor.html", bytes: [])
        self.sharedPage = pages["shared.html"] ?? WebAsset(name: "shared.html", bytes: [])
        self.files = assets
    }
}
