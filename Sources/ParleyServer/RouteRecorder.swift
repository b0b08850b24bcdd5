import HTTPTypes
import Hummingbird

/// One endpoint: a method and a path pattern such as `/api/v1/messages/:id/events`.
public struct Route: Sendable, Hashable, CustomStringConvertible {
    public let method: String
    public let path: String
    public var description: String { "\(method) \(path)" }
}

/// Registers routes on a router and remembers them, so tests can be generated from the server's own list of
/// endpoints (a new route without a test case fails the suites that walk the list).
final class RouteRecorder: RouterMethods {
    typealias Context = ParleyRequestContext

    private let router: Router<ParleyRequestContext>
    private(set) var routes: [Route] = []

    init(_ router: Router<ParleyRequestContext>) {
        self.router = router
    }

    @discardableResult func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder)
        -> Self where Responder.Context == ParleyRequestContext
    {
        let pattern = "/" + path.description.split(separator: "/").joined(separator: "/")
        routes.append(Route(method: method.rawValue, path: pattern))
        router.on(path, method: method, responder: NamedResponder(pattern: pattern, inner: responder))
        return self
    }

    @discardableResult func add(middleware: any MiddlewareProtocol<Request, Response, ParleyRequestContext>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
