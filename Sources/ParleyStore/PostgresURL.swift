import Foundation
import ParleyCore
import NIOSSL
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database` URL (`postgresql://` too). TLS is off unless
/// `?sslmode=require` is given; `?pool_size=N` sets the most pooled connections (default 20).
public struct PostgresURL: Sendable {
    public var host: String
    public var port: Int
    public var username: String
    var password: String?
    public var database: String?
    public var requireTLS: Bool
    public var poolSize: Int

    public init(_ url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql", let host = components.host, !host.isEmpty else {
            throw ParleyError.invalid("a PostgreSQL URL looks like postgres://user:password@host:5432/database")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let query = components.queryItems ?? []
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user ?? "postgres"
        self.password = components.password?.removingPercentEncoding
        self.database = database.isEmpty ? nil : database
        self.requireTLS = query.first { $0.name == "sslmode" }?.value == "require"
        if let raw = query.first(where: { $0.name == "pool_size" })?.value {
            guard let size = Int(raw), (1...1000).contains(size) else {
                throw ParleyError.invalid("pool_size in the PostgreSQL URL must be a whole number from 1 to 1000")
            }
            self.poolSize = size
        } else {
            self.poolSize = 20
        }
    }

    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = requireTLS ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username,
                                                         password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = requireTLS
            ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username,
                                                             password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
