import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import MailfleetTracker
import Testing

/// The tracker's double opt-in route on the real Postgres: GET asks and changes nothing, POST
/// subscribes the pending member once, and bad, expired and stale links get clear pages.
@Suite struct ConfirmationRouteTests {
    @Test func aPendingMemberIsConfirmedByThePostOnly() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-confirm")
        do {
            try await Migrator(pool: pool).migrate()
            let tenant = try await TenantStore(pool: pool).createTenant(name: "confirm")
            let list = try await ContactListStore(pool: pool).create(tenantID: tenant, name: "Opt-in", doubleOptIn: true, actor: "test")
            let contacts = ContactStore(pool: pool)
            let member = try #require(try await contacts.addMember(
                tenantID: tenant, listID: list.id, email: "ada@example.com", attributes: [:], timeZone: nil, status: nil))
            let leaver = try #require(try await contacts.addMember(
                tenantID: tenant, listID: list.id, email: "leaver@example.com", attributes: [:], timeZone: nil, status: nil))
            #expect(member.status == .pending)
            _ = try await contacts.setStatus(tenantID: tenant, listID: list.id, contactID: leaver.contact.id, status: .unsubscribed)

            let signer = ListConfirmationSigner(secret: "route-secret")
            let clock = Date()
            let router = Router()
            ConfirmationController(signer: signer, contacts: contacts, logger: Logger(label: "it-confirm"), now: { clock }).addRoutes(to: router)
            @Sendable func token(_ contact: UUID, issued: Date = Date()) -> String {
                signer.sign(ListConfirmation(tenantID: tenant, listID: list.id, contactID: contact, now: issued))
            }
            try await Application(router: router, logger: Logger(label: "it-confirm")).test(.router) { client in
                let link = "/confirm/\(token(member.contact.id))"
                let asked = try await client.execute(uri: link, method: .get)
                #expect(asked.status == .ok && String(buffer: asked.body).contains("<form method=\"post\""))
                #expect(try await contacts.members(tenantID: tenant, listID: list.id, status: .pending)?.count == 1, "the GET changed nothing")
                for _ in 0..<2 {
                    let confirmed = try await client.execute(uri: link, method: .post)
                    #expect(confirmed.status == .ok && String(buffer: confirmed.body).contains("ada@example.com"))
                }
                let subscribed = try #require(try await contacts.members(tenantID: tenant, listID: list.id, status: .subscribed))
                #expect(subscribed.map(\.contact.email) == ["ada@example.com"] && subscribed.first?.subscribedAt != nil)

                #expect(try await client.execute(uri: "/confirm/\(token(leaver.contact.id))", method: .post).status == .conflict)
                let expired = try await client.execute(uri: "/confirm/\(token(member.contact.id, issued: clock.addingTimeInterval(-ListConfirmation.lifetime - 1)))", method: .post)
                #expect(expired.status == .gone && String(buffer: expired.body).contains("expired"))
                #expect(try await client.execute(uri: "/confirm/not-a-token", method: .get).status == .notFound)
                #expect(try await client.execute(uri: "/confirm/\(token(UUID()))", method: .post).status == .notFound)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
