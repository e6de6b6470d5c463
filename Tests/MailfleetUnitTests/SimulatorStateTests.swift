@testable import MailfleetConfiguration
@testable import MailfleetSimulator
import Testing

@Suite struct SimulatorStateTests {
    /// Two calls: the second delivers `a` again (a duplicate) and one message without an id.
    static func deliver(to state: SimulatorState) {
        state.recordAccepted([
            SimulatedDelivery(messageID: "a", recipients: ["One@Example.com"], variables: ["mailfleet_message_id": "a", "n": "1"]),
            SimulatedDelivery(messageID: "b", recipients: ["two@example.com", "three@example.com"], variables: ["mailfleet_message_id": "b"]),
        ], at: 10)
        state.recordAccepted([
            SimulatedDelivery(messageID: "a", recipients: ["one@example.com"], variables: ["mailfleet_message_id": "a", "n": "2"]),
            SimulatedDelivery(messageID: nil, recipients: ["four@example.com"], variables: [:]),
        ], at: 20)
    }

    static func stats(_ state: SimulatorState) -> SimulatorStats { state.stats.withLock { $0 } }

    @Test func countersOnlyByDefaultKeepNothingPerMessage() {
        let state = SimulatorState()
        Self.deliver(to: state)
        let stats = Self.stats(state)
        #expect(stats.recording == .counters)
        #expect(stats.acceptedCalls == 2)
        #expect(stats.acceptedMessages == 3)
        #expect(stats.recipients == 5)
        #expect(stats.largestBatch == 2)
        #expect(stats.firstSeen.isEmpty && stats.deliveries.isEmpty && stats.variables.isEmpty)
        #expect(stats.uniqueMessages == nil)
        #expect(stats.duplicates == nil)
    }

    @Test func readingRecordsThatAreNotKeptSaysWhatIsNeeded() {
        let state = SimulatorState()
        Self.deliver(to: state)
        #expect(throws: RecordingOff(needed: .arrivals, current: .counters)) { try state.arrivals().get() }
        #expect(throws: RecordingOff(needed: .all, current: .counters)) { try state.deliveries(of: "a").get() }
        #expect(throws: RecordingOff(needed: .all, current: .counters)) { try state.recipientVariables().get() }
        #expect(RecordingOff(needed: .arrivals, current: .counters).message.contains("--record arrivals"))
    }

    @Test func arrivalsKeepTheFirstTimeOfEachMessageAndTellDuplicates() throws {
        let state = SimulatorState(recording: .arrivals)
        Self.deliver(to: state)
        #expect(try state.arrivals().get() == ["a": 10, "b": 10])
        let stats = Self.stats(state)
        #expect(stats.uniqueMessages == 2)
        #expect(stats.duplicates == 1)
        #expect(stats.acceptedMessages == 3)
        #expect(stats.deliveries.isEmpty && stats.variables.isEmpty)
        #expect(throws: RecordingOff(needed: .all, current: .arrivals)) { try state.recipientVariables().get() }
    }

    @Test func allKeepsDeliveriesPerMessageAndEachRecipientsLastVariables() throws {
        let state = SimulatorState(recording: .all)
        Self.deliver(to: state)
        #expect(try state.deliveries(of: "a").get() == 2)
        #expect(try state.deliveries(of: "b").get() == 1)
        #expect(try state.deliveries(of: "unknown").get() == 0)
        let variables = try state.recipientVariables().get()
        #expect(variables["one@example.com"]?["n"] == "2")
        #expect(variables.keys.sorted() == ["four@example.com", "one@example.com", "three@example.com", "two@example.com"])
        #expect(Self.stats(state).uniqueMessages == 2)
        #expect(Self.stats(state).duplicates == 1)
    }

    @Test func recordingTurnedOnKeepsOnlyWhatArrivesAfter() throws {
        let state = SimulatorState()
        state.recordAccepted([SimulatedDelivery(messageID: "early", recipients: ["x@example.com"], variables: [:])], at: 1)
        state.record(.arrivals)
        state.recordAccepted([SimulatedDelivery(messageID: "late", recipients: ["y@example.com"], variables: [:])], at: 2)
        #expect(try state.arrivals().get() == ["late": 2])
        #expect(Self.stats(state).acceptedMessages == 2)
    }

    @Test func resetClearsCountersAndRecordsButKeepsTheRecording() throws {
        let state = SimulatorState(recording: .all)
        Self.deliver(to: state)
        state.reset()
        let stats = Self.stats(state)
        #expect(stats.recording == .all)
        #expect(stats.acceptedCalls == 0 && stats.acceptedMessages == 0)
        #expect(try state.arrivals().get().isEmpty)
        #expect(try state.recipientVariables().get().isEmpty)
    }

    @Test func theSettingAcceptsExactlyTheRecordingNames() throws {
        let setting = Settings.catalogue.simulatorRecord
        #expect(setting.expectation == "one of " + SimulatorRecording.allCases.map(\.rawValue).joined(separator: ", "))
        for recording in SimulatorRecording.allCases {
            #expect(try setting.value(flag: recording.rawValue, environment: [:]) == recording.rawValue)
        }
        #expect(try setting.value(flag: nil, environment: [:]) == SimulatorRecording.counters.rawValue)
        #expect(throws: (any Error).self) { try setting.value(flag: "everything", environment: [:]) }
    }
}
