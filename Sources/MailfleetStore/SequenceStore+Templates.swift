import Foundation
import MailfleetCore
import MailfleetPostgres

extension SequenceStore {
    /// A step names a template the tenant does not have (at that version), or names one and
    /// gives a body too.
    public struct TemplateRefusal: Error, Sendable, Equatable {
        /// The problem, with the step's field.
        public let problem: FieldError
    }

    /// The steps with each named template's parts copied in (a subject of the step's own
    /// wins) and its version fixed, as a campaign copies its template: editing the template
    /// later changes no sequence.
    public func copyingTemplates(into steps: [SequenceStep], tenantID: UUID) async throws -> [SequenceStep] {
        let templates = TemplateStore(pool: pool)
        var out = steps
        for index in out.indices {
            guard let templateID = out[index].templateID else { continue }
            let field = "steps[\(index)].template_id"
            if out[index].template.text != nil || out[index].template.html != nil {
                throw TemplateRefusal(problem: FieldError(code: "invalid_value", field: field, message: "give either template_id or text and html, not both"))
            }
            guard let record = try await templates.get(tenantID: tenantID, id: templateID, version: out[index].templateVersion) else {
                throw TemplateRefusal(problem: FieldError(
                    code: "template_not_found", field: field, message: "no template \(templateID.lowercasedString) (at that version)"))
            }
            var template = record.template
            if !out[index].template.subject.isEmpty { template.subject = out[index].template.subject }
            out[index].template = template
            out[index].templateVersion = record.version
        }
        return out
    }
}
