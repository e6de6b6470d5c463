import Foundation

extension CampaignState {
    /// Why a command does not apply to a campaign in this state.
    public struct Refusal: Error, Sendable, Equatable {
        /// The command refused.
        public var command: CampaignCommand
        /// The state it was refused in.
        public var state: CampaignState

        /// Creates a refusal.
        public init(command: CampaignCommand, state: CampaignState) {
            self.command = command
            self.state = state
        }

        /// What the caller is told.
        public var message: String {
            "a \(state.rawValue) campaign cannot be \(command.pastTense)"
        }
    }

    /// The state after `command`, given when the campaign's first send time is (`firstRunAt`,
    /// nil for at once): a start or resume before that time is `scheduled`, at or after it
    /// `running`. A cancel of a cancelled campaign leaves it cancelled, so a cancel whose answer
    /// was lost can be sent again. Commands that make no sense in this state are refused.
    public func applying(_ command: CampaignCommand, firstRunAt: Date?, now: Date) throws(Refusal) -> CampaignState {
        let due: CampaignState = (firstRunAt.map { $0 > now } ?? false) ? .scheduled : .running
        switch (command, self) {
        case (.start, .draft): return due
        case (.pause, .scheduled), (.pause, .running), (.pause, .testing): return .paused
        case (.resume, .paused): return due
        case (.cancel, .draft), (.cancel, .scheduled), (.cancel, .running), (.cancel, .testing), (.cancel, .paused), (.cancel, .cancelled): return .cancelled
        default: throw Refusal(command: command, state: self)
        }
    }

    /// The state the runner moves a campaign to when it takes it up: a scheduled one whose time
    /// came is running; others stay as they are.
    public func takenUp() -> CampaignState {
        self == .scheduled ? .running : self
    }
}

extension CampaignCommand {
    /// `started`, `paused`, `resumed`, `cancelled`.
    public var pastTense: String {
        switch self {
        case .start: return "started"
        case .pause: return "paused"
        case .resume: return "resumed"
        case .cancel: return "cancelled"
        }
    }
}
