import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// Imports into a list (the body streamed as it arrives) and exports of it (streamed out a
/// page at a time), both in constant memory.
extension ContactListsController {
    func importFile(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<ContactImportView> {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        guard let format = request.headers[.contentType].flatMap(ContactFileFormat.init(mediaType:)) else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type", message: "send the file as text/csv or application/x-ndjson (Content-Type)")
        }
        var importer: ContactImporter
        do {
            importer = try await ContactImporter(store: imports, tenantID: key.tenantID, listID: id, format: format, actor: "api:\(key.keyID)")
        } catch ContactImporter.Failure.noList {
            throw APIError.notFound("list")
        } catch {
            throw APIError.unavailable(cause: error)
        }
        do {
            for try await buffer in request.body {
                try await importer.feed(buffer.readableBytesView)
            }
            return EditedResponse(status: .created, response: ContactImportView(try await importer.finish()))
        } catch ContactImporter.Failure.file(let problem) {
            await importer.abandon()
            throw APIError(.unprocessableContent, code: problem.code, message: problem.message)
        } catch ContactImporter.Failure.noList {
            await importer.abandon()
            throw APIError.notFound("list")
        } catch {
            // The body broke off or the database went away: what was written stays (a new run
            // of the file converges); the record says the import was interrupted.
            await importer.abandon()
            throw APIError.unavailable("the import stopped part way; run it again (rows already written are updated, not duplicated)", cause: error)
        }
    }

    func listImports(_ request: Request, context: APIRequestContext) async throws -> ContactImportList {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        guard let found = try await database({ try await imports.list(tenantID: key.tenantID, listID: id, limit: limit) }) else { throw APIError.notFound("list") }
        return ContactImportList(imports: found.map(ContactImportView.init))
    }

    func showImport(_ request: Request, context: APIRequestContext) async throws -> ContactImportView {
        let key = try context.key(for: .read)
        let id = try Self.id(context, what: "import")
        guard let found = try await database({ try await imports.get(tenantID: key.tenantID, id: id) }) else { throw APIError.notFound("import") }
        return ContactImportView(found)
    }

    func importErrors(_ request: Request, context: APIRequestContext) async throws -> ContactImportErrorPage {
        let key = try context.key(for: .read)
        let id = try Self.id(context, what: "import")
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        var after = 0
        if let text = request.uri.queryParameters.get("after") {
            guard let line = Int(String(text)), line >= 0 else { throw APIError.invalidParameter("after", "after must be a line number from a previous page's next") }
            after = line
        }
        guard let rows = try await database({ try await imports.errors(tenantID: key.tenantID, importID: id, after: after, limit: limit) }) else {
            throw APIError.notFound("import")
        }
        return ContactImportErrorPage(
            errors: rows.map { ContactImportErrorPage.Row(line: $0.line, reason: $0.reason) }, next: rows.count == limit ? rows.last.map { String($0.line) } : nil)
    }

    /// `GET /v1/lists/{id}/export`: NDJSON unless `format=csv` or `Accept: text/csv`; the
    /// `status` query parameter keeps one status.
    func export(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        var format = ContactFileFormat.ndjson
        if let text = request.uri.queryParameters.get("format") {
            guard let given = ContactFileFormat(rawValue: String(text)) else { throw APIError.invalidParameter("format", "format is csv or ndjson") }
            format = given
        } else if let accept = request.headers[.accept], accept.lowercased().contains("text/csv") {
            format = .csv
        }
        var status: MembershipStatus?
        if let text = request.uri.queryParameters.get("status") {
            guard let given = MembershipStatus(rawValue: String(text)) else {
                throw APIError.invalidParameter("status", "status is one of \(MembershipStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = given
        }
        guard try await database({ try await lists.get(tenantID: key.tenantID, id: id) }) != nil else { throw APIError.notFound("list") }
        let columns = format == .csv ? ContactExportLine.csvColumns(try await database { try await contacts.attributeNames(tenantID: key.tenantID, listID: id) }) : []
        let store = contacts
        let tenantID = key.tenantID
        let body = ResponseBody { [format, status] writer in
            if format == .csv { try await writer.write(ByteBuffer(string: ContactExportLine.csvHeader(attributes: columns))) }
            var after: UUID?
            while true {
                let page = try await store.members(tenantID: tenantID, listID: id, status: status, after: after, limit: PageLimit.maximum) ?? []
                var text = ""
                for member in page {
                    let contact = member.contact
                    text += format == .csv
                        ? ContactExportLine.csv(email: contact.email, status: member.status, timeZone: contact.timeZone, attributes: contact.attributes, columns: columns)
                        : ContactExportLine.ndjson(email: contact.email, status: member.status, timeZone: contact.timeZone, attributes: contact.attributes)
                }
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                guard page.count == PageLimit.maximum, let last = page.last else { break }
                after = last.contact.id
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: format.mediaType + (format == .csv ? "; charset=utf-8" : "")], body: body)
    }
}
