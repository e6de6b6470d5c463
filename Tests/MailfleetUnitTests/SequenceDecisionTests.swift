import Foundation
import MailfleetCore
import Testing

/// The pure rules of drip sequences: which step comes next, when, and what a condition or the
/// goal says; and how a sequence's JSON is read and checked.
@Suite("Sequence decisions")
struct SequenceDecisionTests {
    static let day = 86_400

    static func sequence(goal: EventType? = .clicked) -> DripSequence {
        DripSequence(
            id: UUID(), tenantID: UUID(), name: "welcome", from: try! EmailAddress(email: "hello@example.com"), goal: goal,
            steps: [
                SequenceStep(delaySeconds: 0, template: MessageTemplate(subject: "One", text: "1", html: nil)),
                SequenceStep(delaySeconds: day, template: MessageTemplate(subject: "Two", text: "2", html: nil)),
                SequenceStep(
                    delaySeconds: 2 * day, template: MessageTemplate(subject: "Three", text: "3", html: nil),
                    condition: .event(.opened, step: nil, happened: false)),
            ])
    }

    @Test func stepsFollowEachOtherAtTheirDelaysAndTheLastCompletes() {
        let s = Self.sequence()
        let entered = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(SequenceDecision.firstRunAt(s, enteredAt: entered) == entered)
        #expect(SequenceDecision.decide(s, currentStep: 0, history: SequenceHistory(), unsubscribed: false) == .send(step: 1))
        #expect(SequenceDecision.nextRunAt(s, afterStep: 1, now: entered) == entered.addingTimeInterval(TimeInterval(Self.day)))
        #expect(SequenceDecision.nextRunAt(s, afterStep: 2, now: entered) == entered.addingTimeInterval(TimeInterval(2 * Self.day)))
        #expect(SequenceDecision.nextRunAt(s, afterStep: 3, now: entered) == nil)
        #expect(SequenceDecision.decide(s, currentStep: 3, history: SequenceHistory(), unsubscribed: false) == .complete)
    }

    @Test func aConditionOnThePreviousStepSkipsOrSends() {
        let s = Self.sequence()
        var history = SequenceHistory()
        history.record(step: 1, message: UUID())
        history.record(step: 2, message: UUID())
        // Step 3 only for who did not open step 2.
        #expect(SequenceDecision.decide(s, currentStep: 2, history: history, unsubscribed: false) == .send(step: 3))
        var opened = history
        opened.record(step: 2, event: .opened)
        #expect(SequenceDecision.decide(s, currentStep: 2, history: opened, unsubscribed: false) == .skip(step: 3))
        // An open of step 1 says nothing about step 2.
        var openedFirst = history
        openedFirst.record(step: 1, event: .opened)
        #expect(SequenceDecision.decide(s, currentStep: 2, history: openedFirst, unsubscribed: false) == .send(step: 3))
        // A skipped step had no message, so no event.
        #expect(SequenceCondition.event(.opened, step: 2, happened: true).holds(atStep: 3, history: SequenceHistory()) == false)
        #expect(SequenceCondition.event(.clicked, step: 1, happened: false).holds(atStep: 3, history: SequenceHistory()) == true)
        #expect(SequenceCondition.segment(.all([])).holds(atStep: 1, history: history, segmentMatches: true))
        #expect(!SequenceCondition.segment(.all([])).holds(atStep: 1, history: history, segmentMatches: false))
    }

    @Test func unsubscribingWinsOverTheGoalAndTheGoalOverSteps() {
        let s = Self.sequence()
        var clicked = SequenceHistory()
        clicked.record(step: 1, message: UUID())
        clicked.record(step: 1, event: .clicked)
        #expect(SequenceDecision.decide(s, currentStep: 1, history: clicked, unsubscribed: false) == .exit(.goal))
        #expect(SequenceDecision.decide(s, currentStep: 1, history: clicked, unsubscribed: true) == .exit(.unsubscribed))
        var complained = SequenceHistory()
        complained.record(step: 1, event: .complained)
        #expect(SequenceDecision.decide(s, currentStep: 1, history: complained, unsubscribed: false) == .exit(.unsubscribed))
        var unsubscribedByLink = SequenceHistory()
        unsubscribedByLink.record(step: 1, event: .unsubscribed)
        #expect(SequenceDecision.decide(s, currentStep: 3, history: unsubscribedByLink, unsubscribed: false) == .exit(.unsubscribed))
        // Without a goal a click changes nothing.
        #expect(SequenceDecision.decide(Self.sequence(goal: nil), currentStep: 1, history: clicked, unsubscribed: false) == .send(step: 2))
    }

    @Test func aDefinitionIsReadWithItsStepsAndBadOnesAreRefusedWithTheirField() throws {
        let json = """
            {"name":"welcome","from":"hello@example.com","goal":"clicked","list_id":"0b7c6d1e-0000-4000-8000-000000000001",
             "track_opens":true,"track_clicks":true,
             "steps":[{"delay_seconds":0,"subject":"Hi {{first_name}}","text":"t","html":"<p>t</p>"},
                      {"delay_seconds":86400,"subject":"Two","html":"<p>2</p>","condition":{"event":"opened","happened":false}},
                      {"delay_seconds":60,"subject":"Pro","text":"p","condition":{"segment":{"attribute":"plan","op":"eq","value":"pro"}}}]}
            """
        let definition = try JSONDecoder().decode(SequenceDefinition.self, from: Data(json.utf8))
        let sequence = definition.sequence(tenantID: UUID())
        #expect(sequence.validate().isEmpty)
        #expect(sequence.goal == .clicked && sequence.steps.count == 3)
        #expect(sequence.steps[1].condition == .event(.opened, step: nil, happened: false))
        #expect(sequence.steps[2].condition == .segment(.attribute(name: "plan", test: .eq(.string("pro")))))
        // Steps round-trip through their stored JSON.
        let stored = try JSONEncoder().encode(sequence.steps)
        #expect(try JSONDecoder().decode([SequenceStep].self, from: stored) == sequence.steps)

        func refusal(_ text: String) -> FieldError? {
            do {
                _ = try JSONDecoder().decode(SequenceDefinition.self, from: Data(text.utf8))
                return nil
            } catch let error as DecodingError {
                return FieldError(decoding: error)
            } catch {
                return nil
            }
        }
        let base = #"{"name":"n","from":"a@example.com","steps":[STEP]}"#
        #expect(refusal(base.replacingOccurrences(of: "STEP", with: #"{"delay_seconds":-1,"subject":"s","text":"t"}"#))?.field == "steps[0].delay_seconds")
        #expect(refusal(base.replacingOccurrences(of: "STEP", with: #"{"delay_seconds":0,"subject":"s","text":"t","wait":1}"#))?.code == "unknown_field")
        #expect(refusal(base.replacingOccurrences(of: "STEP", with: #"{"delay_seconds":0,"subject":"s","text":"t","condition":{"event":"sent"}}"#))?.field
            == "steps[0].condition.event")
        #expect(refusal(base.replacingOccurrences(of: "STEP", with: #"{"delay_seconds":0,"subject":"s","text":"t","condition":{"event":"opened","segment":{}}}"#))
            != nil)
        #expect(refusal(#"{"name":"n","from":"a@example.com","goal":"sent","steps":[]}"#)?.field == "goal")

        // What decodes but cannot be stored: no steps, no body, a condition that looks ahead or has nothing before it.
        var empty = sequence
        empty.steps = []
        #expect(empty.validate().first?.field == "steps")
        var bodiless = sequence
        bodiless.steps[0].template.text = nil
        bodiless.steps[0].template.html = nil
        #expect(bodiless.validate().first?.field == "steps[0].text")
        var ahead = sequence
        ahead.steps[1].condition = .event(.opened, step: 3, happened: true)
        #expect(ahead.validate().first?.field == "steps[1].condition.step")
        var first = sequence
        first.steps[0].condition = .event(.opened, step: nil, happened: true)
        #expect(first.validate().first?.field == "steps[0].condition")
    }

    @Test func goalsAndConditionsOnEventsThatAreNotTrackedAreRefusedWithTheirField() throws {
        // Tracked, with an HTML part on the step an open is tested on: nothing to say.
        var tracked = Self.sequence(goal: .clicked)
        tracked.trackOpens = true
        tracked.trackClicks = true
        tracked.steps[1].template.html = "<p>2</p>"
        #expect(tracked.validate().isEmpty)

        // A click goal without click tracking could never be reached.
        var noClicks = tracked
        noClicks.trackClicks = false
        #expect(noClicks.validate().map(\.field) == ["goal"])
        #expect(noClicks.validate().first?.message.contains("track_clicks") == true)
        // "Not opened" without open tracking would always hold; so would it on a step without HTML.
        var noOpens = tracked
        noOpens.trackOpens = false
        #expect(noOpens.validate().map(\.field) == ["steps[2].condition.event"])
        var textOnly = tracked
        textOnly.steps[1].template.html = nil
        #expect(textOnly.validate().map(\.field) == ["steps[2].condition.event"])
        #expect(textOnly.validate().first?.message.contains("html") == true)
        // The same on a named step: step 1 has no HTML part.
        var named = tracked
        named.steps[2].condition = .event(.opened, step: 1, happened: true)
        #expect(named.validate().map(\.field) == ["steps[2].condition.event"])
        var clicks = tracked
        clicks.trackClicks = false
        clicks.goal = nil
        clicks.steps[2].condition = .event(.clicked, step: 2, happened: false)
        #expect(clicks.validate().map(\.field) == ["steps[2].condition.event"])
        // Delivery and bounce conditions need no tracking.
        var delivered = clicks
        delivered.steps[2].condition = .event(.delivered, step: 2, happened: true)
        #expect(delivered.validate().isEmpty)
        // An open goal needs open tracking and some step with an HTML part.
        var openGoal = tracked
        openGoal.goal = .opened
        #expect(openGoal.validate().isEmpty)
        openGoal.steps[1].template.html = nil
        openGoal.steps[2].condition = nil
        #expect(openGoal.validate().map(\.field) == ["goal"])
        // The goal is what a reader does: delivered or bounced is refused, read or stored.
        var deliveredGoal = tracked
        deliveredGoal.goal = .delivered
        #expect(deliveredGoal.validate().map(\.field) == ["goal"])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(
                SequenceDefinition.self, from: Data(#"{"name":"n","from":"a@example.com","goal":"delivered","steps":[]}"#.utf8))
        }
    }

    @Test func leavingTheTriggerListEndsAnEnrollmentAfterUnsubscribingAndBeforeTheGoal() {
        let s = Self.sequence()
        #expect(SequenceDecision.decide(s, currentStep: 1, history: SequenceHistory(), unsubscribed: false, leftList: true) == .exit(.leftList))
        #expect(SequenceDecision.decide(s, currentStep: 1, history: SequenceHistory(), unsubscribed: true, leftList: true) == .exit(.unsubscribed))
        var clicked = SequenceHistory()
        clicked.record(step: 1, message: UUID())
        clicked.record(step: 1, event: .clicked)
        #expect(SequenceDecision.decide(s, currentStep: 1, history: clicked, unsubscribed: false, leftList: true) == .exit(.leftList))
        #expect(SequenceEnrollment.ExitReason.leftList.rawValue == "left_list")
    }

    @Test func storedStepsWithFieldsOfANewerVersionAreReadWhenAskedToIgnoreThem() throws {
        let json = Data(#"[{"delay_seconds":0,"subject":"s","text":"t","priority":"high","condition":{"event":"opened","happened":false,"within":3600}}]"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([SequenceStep].self, from: json) }
        let lenient = JSONDecoder()
        lenient.userInfo[.ignoresUnknownFields] = true
        let steps = try lenient.decode([SequenceStep].self, from: json)
        #expect(steps.count == 1 && steps[0].condition == .event(.opened, step: nil, happened: false))
    }

    @Test func aStepsSubmissionIsABulkMessageOfTheSequencesBatchWithTheContactsVariables() throws {
        let s = Self.sequence()
        let key = UUID()
        let submission = try #require(s.submission(step: 2, email: "ada@example.com", attributes: .object(["first_name": .string("Ada")]), templateKey: key))
        #expect(submission.priority == .bulk && submission.batchID == s.batchID && submission.templateID == key)
        #expect(submission.content.metadata["sequence_step"] == "2")
        #expect(submission.variables == .object(["first_name": .string("Ada"), "email": .string("ada@example.com")]))
        #expect(s.submission(step: 1, email: "not an address", attributes: .object([:]), templateKey: key) == nil)
    }
}
