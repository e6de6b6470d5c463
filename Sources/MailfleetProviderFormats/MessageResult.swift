/// What a provider's answer says about one message of a call that answers per message
/// (a Postmark batch result, an SES bulk entry result).
public enum MessageResult: Sendable, Equatable {
    /// The provider took it, with the provider's id for it.
    case accepted(messageID: String?)
    /// This message only is refused (invalid address, inactive recipient, rejected content).
    case rejected(reason: String)
    /// A transient condition (maintenance, throttling): try this message again.
    case retryable(reason: String)
    /// The account (token, sending permission) is at fault: the batch fails over.
    case accountFailure(reason: String)
}
