import Mustache

/// A `MessageTemplate` with its parts parsed: parsing a part costs far more than rendering it,
/// so a batch or a campaign chunk parses each template once and renders it per message.
public struct CompiledTemplate {
    let subject: MustacheTemplate
    let text: MustacheTemplate?
    let html: MustacheTemplate?

    /// Renders every part with `variables`, as `MessageTemplate.render(variables:)` says.
    public func render(variables: JSONValue) throws(TemplateError) -> RenderedTemplate {
        var object: [String: JSONValue] = [:]
        if case .object(let given) = variables { object = given }
        object[MessageTemplate.unsubscribeVariable] = .string(TrackingRenderer.unsubscribePlaceholder)
        let variables = JSONValue.object(object)
        return RenderedTemplate(
            subject: try MessageTemplate.render(subject, variables: variables, field: "subject"),
            text: try text.map { part throws(TemplateError) in try MessageTemplate.render(part, variables: variables, field: "text") },
            html: try html.map { part throws(TemplateError) in try MessageTemplate.render(part, variables: variables, field: "html") })
    }
}
