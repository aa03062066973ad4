import LuaESCore
@testable import LuaESStore
import Testing

/// How a run of events' metadata is packed (`MetaRun`, `SharedMeta`): exact, and compact for
/// what the engine writes.
@Suite struct SharedMetaTests {
    /// The metadata each event of `runs` reads back as.
    func unpacked(_ runs: [MetaRun], _ events: [NewEvent]) -> [String] {
        var out: [String] = []
        var start = 0
        for run in runs {
            for ordinal in 0..<run.count {
                let event = events[start + ordinal]
                if let shared = run.shared {
                    let id = run.ownIDs[ordinal] ?? shared.base.event(ordinal)
                    let meta = SharedMeta.eventMeta(id: id, members: shared.members(commandKey: event.commandID))
                    #expect(shared.eventMeta(id: id, commandKey: event.commandID) == meta, "both ways write the same")
                    out.append(meta)
                } else {
                    out.append(event.meta)
                }
            }
            start += run.count
        }
        return out
    }

    @Test func everyShapeReadsBackExactly() {
        for (name, events) in metadataShapes() {
            let runs = MetaRun.runs(of: events[...])
            #expect(runs.map(\.count).reduce(0, +) == events.count, "\(name)")
            #expect(unpacked(runs, events) == events.map(\.meta), "\(name)")
        }
    }

    @Test func knownTemplatesMatchInOnePassAndReadBackExactly() {
        let templates = MetaTemplates()
        for round in 0..<2 {
            for (name, events) in metadataShapes() {
                let runs = MetaRun.runs(of: events[...], templates: templates)
                #expect(unpacked(runs, events) == events.map(\.meta), "\(name), round \(round)")
                #expect(runs == MetaRun.runs(of: events[...]), "\(name): the same runs with or without the cache")
            }
        }
        // another call of a known command: found by matching, not made again
        for command in [EngineMetaCommand(base: EngineMetaCommand.base(77), requestID: "zz99"),
                        EngineMetaCommand(base: EngineMetaCommand.base(78), key: "another key"),
                        EngineMetaCommand(base: EngineMetaCommand.base(79), extra: #""user":"ann","tags":["a","b"],"n":1.5"#)] {
            _ = MetaRun.runs(of: EngineMetaCommand(base: EngineMetaCommand.base(1), key: command.key,
                                                   requestID: command.requestID, extra: command.extra).events(1)[...],
                             templates: templates)
            let events = command.events(2)
            let (id, members) = MetaRunPacker.split(events[0].meta)!
            let hit = templates.match(members, id: id, commandKey: command.key)
            #expect(hit != nil && hit == MetaRunPacker.share(members, id: id, commandKey: command.key))
        }
        // near misses fall back to the full packing
        let known = EngineMetaCommand(base: EngineMetaCommand.base(80))
        _ = MetaRun.runs(of: known.events(1)[...], templates: templates)
        var other = known
        other.command = "withdraw"
        let (id, members) = MetaRunPacker.split(other.meta(0))!
        #expect(templates.match(members, id: id, commandKey: nil) == nil)
        // an event id that does not derive from the command id (written before ids were derived):
        // the template still holds, the id is the event's own
        let older = SharedMeta.eventMeta(id: UUIDBits(high: 5, low: 6), members: known.members)
        let (olderID, sameMembers) = MetaRunPacker.split(older)!
        #expect(templates.match(sameMembers, id: olderID, commandKey: nil)?.base == known.base)
        let olderRuns = MetaRun.runs(of: [NewEvent(type: "T", data: "{}", meta: older)][...], templates: templates)
        #expect(olderRuns[0].ownIDs == [UUIDBits(high: 5, low: 6)])
        let strict = MetaRun.runs(of: [NewEvent(type: "T", data: "{}", meta: older)][...], templates: templates, headOwnIDs: false)
        #expect(strict[0].ownIDs == [nil] && strict[0].shared?.base == UUIDBits(high: 5, low: 6).base(ofEvent: 0))
        #expect(unpacked(strict, [NewEvent(type: "T", data: "{}", meta: older)]) == [older])
    }

    @Test func aCommandOfTheEngineIsOneRunWithNothingPerEvent() {
        let command = EngineMetaCommand(base: EngineMetaCommand.base(1))
        let runs = MetaRun.runs(of: command.events(1000)[...])
        #expect(runs.count == 1)
        #expect(runs[0].count == 1000)
        #expect(runs[0].ownIDs.allSatisfy { $0 == nil })
        #expect(runs[0].shared?.base == command.base, "the command id is the base")
        #expect(runs[0].shared?.template.contains(command.base.text) == false, "the command id is not in the template")
    }

    @Test func templatesAreTheSameForEveryCallOfACommand() {
        let first = MetaRun.runs(of: EngineMetaCommand(base: EngineMetaCommand.base(1), requestID: "aa01").events(2)[...])
        let second = MetaRun.runs(of: EngineMetaCommand(base: EngineMetaCommand.base(2), requestID: "bb02").events(1)[...])
        let keyed = MetaRun.runs(of: EngineMetaCommand(base: EngineMetaCommand.base(3), key: "k1").events(1)[...])
        let keyedAgain = MetaRun.runs(of: EngineMetaCommand(base: EngineMetaCommand.base(4), key: "k2").events(1)[...])
        #expect(first[0].shared?.template == second[0].shared?.template)
        #expect(first[0].shared?.request == "aa01")
        #expect(keyed[0].shared?.template == keyedAgain[0].shared?.template)
    }

    @Test func runsEndWhereTheCommandOrItsMembersChange() {
        let a = EngineMetaCommand(base: EngineMetaCommand.base(1)).events(3)
        let b = EngineMetaCommand(base: EngineMetaCommand.base(2), key: "k").events(2)
        let runs = MetaRun.runs(of: (a + b + [NewEvent(type: "X", data: "{}", meta: "{}")])[...])
        #expect(runs.map(\.count) == [3, 2, 1])
        #expect(runs[2].shared == nil)
    }

    @Test func idsThatDoNotDeriveAreKeptPerEvent() {
        let members = EngineMetaCommand().members
        let ids = [UUIDBits(high: 0x10, low: 0x20), UUIDBits(high: 0x10, low: 0x20).base(ofEvent: 0).event(1),
                   UUIDBits(high: 0x99, low: 0x98)]
        let events = ids.map { NewEvent(type: "T", data: "{}", meta: SharedMeta.eventMeta(id: $0, members: members)) }
        let runs = MetaRun.runs(of: events[...])
        #expect(runs.count == 1)
        #expect(runs[0].shared?.base == EngineMetaCommand().base, "the command id is the base")
        #expect(runs[0].ownIDs == ids.map { $0 }, "none derives from the command id")
        // without a command id in the members, the base is the one the first id derives from
        let bare = ids.map { NewEvent(type: "T", data: "{}", meta: SharedMeta.eventMeta(id: $0, members: #""a":1"#)) }
        let bareRuns = MetaRun.runs(of: bare[...])
        #expect(bareRuns[0].shared?.base == ids[0].base(ofEvent: 0))
        #expect(bareRuns[0].ownIDs == [nil, nil, ids[2]])
        #expect(unpacked(bareRuns, bare) == bare.map(\.meta))
        #expect(unpacked(runs, events) == events.map(\.meta))
    }

    @Test func uuidTextAndBlobsRoundTrip() {
        let id = UUIDBits(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210)
        #expect(id.text == "01234567-89ab-cdef-fedc-ba9876543210")
        #expect(UUIDBits(text: id.text.utf8) == id)
        #expect(UUIDBits(text: id.text.uppercased().utf8) == nil, "upper case would not read back the same")
        #expect(UUIDBits(text: "01234567-89ab-cdef-fedc-ba987654321".utf8) == nil)
        #expect(UUIDBits(text: "01234567x89ab-cdef-fedc-ba9876543210".utf8) == nil)
        let blob = id.blob
        #expect(blob.count == 16 && blob[0] == 0x01 && blob[15] == 0x10)
        #expect(blob.withUnsafeBufferPointer { UUIDBits(blob: $0) } == id)
    }
}
