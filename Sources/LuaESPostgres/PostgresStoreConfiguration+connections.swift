import LuaESCore
import PostgresNIO

/// The postgres-nio configurations of the store's connections: the pool, the commit
/// listener and direct ones (the schema check, probes), all with the same TLS and options.
extension PostgresStoreConfiguration {
    /// The TLS settings of `sslMode`, nil for `disable`.
    /// - Throws: `InputError` (`bad_url`) when `sslrootcert` cannot be read as PEM certificates.
    func tlsConfiguration() throws -> TLSConfiguration? {
        guard sslMode != .disable else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        let verifies = sslMode == .verifyCA || sslMode == .verifyFull || sslRootCertificate != nil
        switch sslMode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case _ where verifies: tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        if let path = sslRootCertificate {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw InputError("bad_url", "sslrootcert=\(path): cannot read CA certificates (PEM) from it: \(error)")
            }
        }
        return tls
    }

    /// The pool's configuration.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch (sslMode, try tlsConfiguration()) {
        case (.prefer, let settings?): .prefer(settings)
        case (_, let settings?): .require(settings)
        case (_, nil): .disable
        }
        var client = PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                                  database: database, tls: tls)
        client.options.maximumConnections = poolSize
        client.options.connectTimeout = connectTimeout
        // Names the connections in pg_stat_activity (and lets a test find its own).
        client.options.additionalStartupParameters = startupParameters(application: "esrun/" + schema)
        return client
    }

    /// A configuration for a connection made outside the pool, named `application` in pg_stat_activity.
    func connectionConfiguration(application: String) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch (sslMode, try tlsConfiguration()) {
        case (.prefer, let settings?): .prefer(try NIOSSLContext(configuration: settings))
        case (_, let settings?): .require(try NIOSSLContext(configuration: settings))
        case (_, nil): .disable
        }
        var direct = PostgresConnection.Configuration(host: host, port: port, username: username, password: password,
                                                      database: database, tls: tls)
        let timeout = connectTimeout.components
        direct.options.connectTimeout = .milliseconds(timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000)
        direct.options.additionalStartupParameters = startupParameters(application: application)
        return direct
    }

    /// `application_name`, and `statement_timeout` when set (any setting may travel in the startup packet).
    private func startupParameters(application: String) -> [(String, String)] {
        var parameters = [("application_name", application)]
        if let statementTimeout {
            let parts = statementTimeout.components
            parameters.append(("statement_timeout", "\(parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000)"))
        }
        return parameters
    }
}
