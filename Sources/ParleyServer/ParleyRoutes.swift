import Hummingbird
import Logging
import ParleyAccounts
import ParleyRetrieval
import ParleyStore

/// The router: the guards every request passes, then each group of routes given only what it uses.
enum ParleyRoutes {
    static func router(services: ParleyServices, webAssets: WebAssets) -> (Router<ParleyRequestContext>, [Route]) {
        let router = Router(context: ParleyRequestContext.self)
        router.middlewares.add(RequestGuard(allowedHosts: services.config.effectiveAllowedHosts, maxBodyBytes: services.config.maxBodyBytes,
                                            maxUploadBytes: services.config.knowledge.limits.maxDocumentBytes,
                                            maxImportBytes: services.config.maxImportBytes,
                                            maxAttachmentBytes: services.config.maxAttachmentBytes,
                                            https: services.config.secureCookies))
        router.middlewares.add(AccessLog())
        router.middlewares.add(ErrorMiddleware())
        let recorder = RouteRecorder(router)
        let bodyLimit = services.config.maxBodyBytes
        let authenticator = services.authenticator
        let cookie = SessionCookie(secure: services.config.secureCookies, maxAge: services.config.accounts.sessionLifetime)
        AuthRoutes(authenticator: authenticator, throttle: services.loginThrottle, cookie: cookie, bodyLimit: bodyLimit,
                   singleSignOn: services.oidc?.settings.buttonLabel)
            .register(on: recorder.group("api/v1/auth"))
        OIDCRoutes(provider: services.oidc, authenticator: authenticator, cookie: cookie).register(on: recorder.group("api/v1/auth"))
        AccountRoutes(authenticator: authenticator, accounting: services.accounting, cookie: cookie, bodyLimit: bodyLimit)
            .register(on: recorder.group("api/v1/account").add(middleware: RequireAccount(authenticator: authenticator, scope: .chat)))
        AdminRoutes(accounts: authenticator.accounts, accounting: services.accounting, bodyLimit: bodyLimit)
            .register(on: recorder.group("api/v1/admin").add(middleware: RequireAccount(authenticator: authenticator, scope: .admin)))
        // Everything else under /api/v1 is a signed-in user's own data.
        let api = recorder.group("api/v1").add(middleware: RequireAccount(authenticator: authenticator, scope: .chat))
        ConversationRoutes(store: services.store, chat: services.chat, hub: services.hub, accounting: services.accounting,
                           models: services.models, limits: services.config.limits, bodyLimit: bodyLimit).register(on: api)
        MessageRoutes(store: services.store, feed: services.feed, drain: services.drain, bodyLimit: bodyLimit).register(on: api)
        SearchRoutes(store: services.store).register(on: api)
        KnowledgeRoutes(knowledge: services.knowledge, accounts: services.store, models: services.models, drain: services.drain,
                        bodyLimit: bodyLimit).register(on: api)
        AssistantRoutes(store: services.store,
                        checks: ChatSettingsChecks(store: services.store, models: services.models, limits: services.config.limits),
                        bodyLimit: bodyLimit).register(on: api)
        PromptRoutes(store: services.store, bodyLimit: bodyLimit).register(on: api)
        ImportRoutes(store: services.store, maxImportBytes: services.config.maxImportBytes).register(on: api)
        AttachmentRoutes(store: services.store, maxBytes: services.config.maxAttachmentBytes).register(on: api)
        let shares = ShareRoutes(store: services.store, authenticator: authenticator, bodyLimit: bodyLimit)
        shares.registerOwned(on: api)
        // A shared link reads one conversation as it was shared, for whoever has the link (or any signed-in user).
        shares.registerShared(on: recorder.group("api/v1/shared"))
        // Published assistants answer anyone: a visitor reaches only the chat they started, by its token.
        VisitorRoutes(store: services.store, chat: services.chat, feed: services.feed,
                      checks: ChatSettingsChecks(store: services.store, models: services.models, limits: services.config.limits),
                      accounting: services.accounting, limit: services.visitorLimit, authenticator: authenticator,
                      drain: services.drain, bodyLimit: bodyLimit).register(on: recorder.group("api/v1/public"))
        let system = SystemRoutes(store: services.store, models: services.models, redis: services.redis, drain: services.drain,
                                  visionModels: services.config.visionModels)
        system.register(on: recorder)
        system.registerModels(on: api)
        if let registry = services.metrics {
            MetricsRoutes(registry: registry, token: services.config.metricsToken, services: services).register(on: recorder)
        }
        OpenAIRoutes(gateway: services.gateway, router: services.router, accounting: services.accounting,
                     access: GatewayAccess(authenticator: authenticator), keepAlive: services.config.keepAliveInterval,
                     bodyLimit: bodyLimit).register(on: recorder)
        WebRoutes(assets: webAssets, embedOrigins: { [store = services.store] slug in
            (try? await store.publishedAssistant(slug: slug))?.embedOrigins ?? []
        }).register(on: recorder)
        return (router, recorder.routes)
    }
}
