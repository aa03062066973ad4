import Foundation
import Logging
import LuaESStore
import NIOCore
import NIOPosix
import NIOSSL

/// A few shared connections to one Redis server, each made on first use and made again
/// after it broke (the server restarted): `AUTH` and `SELECT` run on every new connection.
/// Callers pick connections in turn; many callers share a connection at once (pipelining).
final class RedisConnectionPool: @unchecked Sendable {
    // @unchecked: a slot's `connection` is read and written only while the slot's lock is
    // held, `turn` and `closed` only while `turnLock` is; everything else is immutable after init.
    let configuration: RedisSnapshotStoreConfiguration
    private let tls: NIOSSLContext?
    private let logger: Logger
    private let slots: [Slot]
    private let turnLock = NSLock()
    private var turn = 0
    private var closed = false

    private final class Slot: @unchecked Sendable {
        // @unchecked: `connection` is read and written only while `lock` is held.
        let lock = NSLock()
        var connection: RESPConnection?
    }

    /// - Throws: `StoreError.invalid` when the TLS settings cannot be used (an unreadable CA file).
    init(configuration: RedisSnapshotStoreConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.slots = (0..<configuration.poolSize).map { _ in Slot() }
        self.tls = configuration.tls ? try Self.makeTLSContext(configuration) : nil
    }

    private static func makeTLSContext(_ configuration: RedisSnapshotStoreConfiguration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if configuration.tlsVerification == .none { tls.certificateVerification = .none }
        if let path = configuration.tlsCAFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw StoreError.invalid("tls_ca=\(path): cannot read PEM certificates from it (\(error))")
            }
        }
        do { return try NIOSSLContext(configuration: tls) } catch {
            throw StoreError.invalid("cannot set up TLS for Redis at \(configuration.address): \(error)")
        }
    }

    /// Sends `command` on one of the connections and returns its reply. A connection lost
    /// on the way is replaced and the command sent once more: callers send only commands
    /// that may run twice.
    /// - Parameter what: what the call does, for messages ("reading the snapshot of Counter/c1").
    /// - Throws: `StoreError.io` naming the server, `StoreError.closed`.
    func send(_ command: RESPCommand, while what: String) throws -> RESPValue {
        let slot = try nextSlot()
        var attempt = 1
        while true {
            let connection = try connection(in: slot, while: what)
            do {
                return try connection.send(command)
            } catch let error where error is RESPConnectionLost && attempt == 1 {
                logger.notice("Redis connection lost while \(what); trying again on a new one",
                              metadata: ["redis": "\(configuration.address)"])
                drop(connection, from: slot)
                attempt += 1
            } catch {
                drop(connection, from: slot)
                throw storeError(error, while: what)
            }
        }
    }

    func close() {
        turnLock.withLock { closed = true }
        for slot in slots {
            slot.lock.withLock {
                slot.connection?.close()
                slot.connection = nil
            }
        }
    }

    private func nextSlot() throws -> Slot {
        try turnLock.withLock {
            guard !closed else { throw StoreError.closed }
            turn = (turn + 1) % slots.count
            return slots[turn]
        }
    }

    /// The slot's connection, made (or made again) when it has none that works. Callers of
    /// the same slot wait for one attempt rather than all connecting at once.
    private func connection(in slot: Slot, while what: String) throws -> RESPConnection {
        try slot.lock.withLock {
            if let connection = slot.connection, connection.isActive { return connection }
            slot.connection?.close()
            slot.connection = nil
            let connection = try connect(while: what)
            slot.connection = connection
            return connection
        }
    }

    private func drop(_ connection: RESPConnection, from slot: Slot) {
        connection.close()
        slot.lock.withLock { if slot.connection === connection { slot.connection = nil } }
    }

    private func connect(while what: String) throws -> RESPConnection {
        let connection: RESPConnection
        do {
            connection = try RESPConnection.connect(host: configuration.host, port: configuration.port, tls: tls,
                                                    timeout: configuration.connectTimeout)
        } catch {
            throw StoreError.io("cannot connect to Redis at \(configuration.address) while \(what): \(Self.describe(error))")
        }
        do {
            if let password = configuration.password {
                let auth = configuration.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password)
                if case .error(let message) = try connection.send(auth) {
                    throw StoreError.io("Redis at \(configuration.address) refused the login"
                        + (configuration.username.map { " of user \($0)" } ?? "") + ": \(message)")
                }
            }
            if configuration.database != 0,
               case .error(let message) = try connection.send(RESPCommand("SELECT", String(configuration.database))) {
                throw StoreError.io("Redis at \(configuration.address) refused database \(configuration.database): \(message)")
            }
            return connection
        } catch {
            connection.close()
            throw storeError(error, while: what)
        }
    }

    /// A `StoreError` that says where and what failed (never a password or a state).
    func storeError(_ error: any Error, while what: String) -> StoreError {
        if let error = error as? StoreError { return error }
        let place = "Redis at \(configuration.address)"
        if Self.isTLSError(error) {
            let hint = configuration.tlsCAFile == nil
                ? "is the server's certificate signed by a CA the system trusts? tls_ca=PATH names another"
                : "is the server's certificate signed by the CA in \(configuration.tlsCAFile!), for this host name?"
            return .io("TLS with \(place) failed while \(what): \(error) (\(hint))")
        }
        if error is RESPConnectionLost {
            return .io("\(place) closed the connection while \(what)"
                + (configuration.tls ? "" : " (does it want TLS? use rediss://)"))
        }
        return .io("\(place): \(what) failed: \(Self.describe(error))")
    }

    private static func isTLSError(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }

    /// NIO's connection errors carry one error per address tried; the first says why.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return "\(first.error)"
        }
        return "\(error)"
    }
}
