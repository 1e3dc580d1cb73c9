extension ChangelogEntry {
    /// Why a record could not be decoded; the caller names the topic,
    /// partition and offset.
    enum DecodingFailure: Error, Equatable {
        case newerFormat(String, UInt8, supported: UInt8)
        case malformed(String)
    }

    /// Decodes a record of `store` (its name's UTF-8 bytes); nil for a
    /// record of another store of the same changelog partition.
    static func decode(
        key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, store: [UInt8]
    ) throws(DecodingFailure) -> ChangelogEntry? {
        guard let key else { throw .malformed("a record without a key") }
        var keyReader = ChangelogReader(key)
        do {
            let format = try keyReader.byte()
            guard format <= Self.keyFormat else { throw DecodingFailure.newerFormat("key", format, supported: Self.keyFormat) }
            let kindByte = try keyReader.byte()
            guard format == 1 || kindByte == Kind.erased.rawValue else {
                throw DecodingFailure.malformed("key format \(format) for a record kind written in format 1")
            }
            guard try keyReader.matches(store) else { return nil }
            guard let kind = Kind(rawValue: kindByte) else { throw DecodingFailure.malformed("unknown record kind \(kindByte)") }
            guard let value else { return try tombstone(kind, &keyReader) }
            var valueReader = ChangelogReader(value)
            let valueFormat = try valueReader.byte()
            guard valueFormat <= Self.format else { throw DecodingFailure.newerFormat("value", valueFormat, supported: Self.format) }
            return try entry(kind, &keyReader, &valueReader, format: valueFormat)
        } catch let failure as DecodingFailure {
            throw failure
        } catch {
            throw .malformed("a field runs past the end of the record")
        }
    }

    private static func tombstone(_ kind: Kind, _ key: inout ChangelogReader) throws -> ChangelogEntry {
        switch kind {
        case .snapshot:
            return .removed(entity: try key.string(), key: try key.string())
        case .timers:
            return .timers(StoredTimers(entity: try key.string(), key: try key.string(), timers: []))
        case .output:
            return .delivered(sourceOffset: try key.int64(), position: try key.int64())
        case .progress, .imageStart, .imageEnd, .erased:
            throw DecodingFailure.malformed("a tombstone for a record kind that has none")
        }
    }

    private static func entry(
        _ kind: Kind, _ key: inout ChangelogReader, _ value: inout ChangelogReader, format: UInt8
    ) throws -> ChangelogEntry {
        switch kind {
        case .snapshot:
            let entity = try key.string()
            let entityKey = try key.string()
            let version = try value.int64()
            let offset = try value.int64()
            let firings = try value.int64()
            let sources = format >= 2 ? try value.offsets() : [:]
            let calls = format >= 3 ? try RecentCall.read(from: &value) : []
            return .snapshot(Snapshot(
                entity: entity, key: entityKey, version: version, offset: offset, state: value.tail(), firings: firings, sources: sources,
                calls: calls
            ))
        case .timers:
            let entity = try key.string()
            let entityKey = try key.string()
            let count = try value.int64()
            guard (0...1_000_000).contains(count) else { throw DecodingFailure.malformed("\(count) timers") }
            var timers: [EntityTimer] = []
            for _ in 0..<count {
                let name = try value.string()
                let clock: EntityTimer.Clock = try value.byte() == 0 ? .eventTime : .processingTime
                timers.append(EntityTimer(name: name, clock: clock, due: EventTime(milliseconds: try value.int64())))
            }
            return .timers(StoredTimers(entity: entity, key: entityKey, timers: timers))
        case .output:
            return .output(OutboxEntry(
                sourceOffset: try key.int64(), position: try key.int64(), topic: try value.string(),
                key: try value.optionalData(), value: try value.optionalData(), headers: try value.optionalData(),
                timestamp: try value.optionalInt64(), partition: format >= 2 ? Int32(truncatingIfNeeded: try value.int64()) : nil
            ))
        case .progress:
            let next = try value.int64()
            let time = try value.optionalInt64().map(EventTime.init(milliseconds:))
            let group = try value.string()
            let writer = try value.int64()
            let image = value.isAtEnd ? nil : try value.optionalInt64()
            let topics = format >= 2 ? try value.offsets() : [:]
            return .progress(ChangelogProgress(
                nextOffset: next, maxEventTime: time, group: group, writer: writer, image: image, topicOffsets: topics
            ))
        case .imageStart:
            return .imageStart(ChangelogImage(group: try value.string(), id: try value.int64()))
        case .imageEnd:
            let group = try value.string()
            let id = try value.int64()
            let records = value.isAtEnd ? nil : try value.optionalInt64()
            return .imageEnd(ChangelogImage(group: group, id: id, records: records))
        case .erased:
            return .erased
        }
    }
}
