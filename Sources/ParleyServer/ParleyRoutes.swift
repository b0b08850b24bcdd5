import Hummingbird
import Logging

/// The router: the guards every request passes, then each group of routes given only what it uses.
enum ParleyRoutes {
    static func router(services: ParleyServices, webAssets: WebAssets) -> (Router<ParleyRequestContext>, [Route]) {
        let router = Router(context: ParleyRequestContext.self)
        router.middlewares.add(RequestGuard(allowedHosts: services.config.effectiveAllowedHosts, maxBodyBytes: services.config.maxBodyBytes))
        router.middlewares.add(LogRequestsMiddleware(.debug))
        router.middlewares.add(ErrorMiddleware())
        let recorder = RouteRecorder(router)
        let api = recorder.group("api/v1")
        let bodyLimit = services.config.maxBodyBytes
        ConversationRoutes(store: services.store, chat: services.chat, hub: services.hub, limiter: services.limiter,
                           models: services.models, limits: services.config.limits, bodyLimit: bodyLimit).register(on: api)
        MessageRoutes(store: services.store, feed: services.feed, bodyLimit: bodyLimit).register(on: api)
        SearchRoutes(store: services.store).register(on: api)
        SystemRoutes(store: services.store, models: services.models, redis: services.redis).register(on: recorder)
        OpenAIRoutes(gateway: services.gateway, router: services.router, limiter: services.limiter,
                     apiKeys: services.config.apiKeys, keepAlive: services.config.keepAliveInterval,
                     bodyLimit: bodyLimit).register(on: recorder)
        WebRoutes(assets: webAssets).register(on: recorder)
        return (router, recorder.routes)
    }
}
