"""The server's parts without a server: codec, limits, CSV parsing, ledger, retention, migrations,
the Redis bus. Database tests run on SQLite and the local PostgreSQL."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import uuid
import zlib
from typing import Any

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from redis.asyncio import Redis
from sqlalchemy import select

from positioning import Estimate
from server.csv_import import CsvFormatError, parse_customers, parse_products
from server.database import Database, upgrade_to_head
from server.gc_tuning import SERVING_GC_YOUNG_THRESHOLD, tune_gc_for_serving
from server.login_guard import LoginGuard
from server.offer_ledger import ack_through, advance_status, issue_offers, pending_app_offers
from server.pipeline import DecisionResult, Occasion, OfferDraft, Shopper
from server.positions_codec import POINT_DTYPE, pack_estimates, unpack_estimates
from server.raw_frames_codec import (
    SEGMENT_MAGIC,
    ZSTD_MAGIC,
    StoredFrame,
    UnknownRawFrameCodec,
    decode_frame,
    encode_frame,
    is_binary_frame,
    pack_segment,
    stored_frames,
)
from server.realtime.bus import DeliveryBus, RedisBus
from server.realtime.frames import ReadingsBatch
from server.realtime.limits import MAX_FUTURE_MS, MAX_PAST_MS, TokenBucket, timestamp_problem
from server.realtime.readings_binary import decode_binary_readings
from server.retention import DAY_MS, purge_raw_positions
from server.settings import Settings, settings_from_env
from server.store_snapshot import CampaignCounts, load_snapshot
from server.tables import (
    Base,
    Beacon,
    Campaign,
    Customer,
    Floor,
    PositionChunk,
    RawReadingBatch,
    Store,
    Visit,
    Zone,
)
from server.tracking import StoreTrackers
from server.visit_log import (
    READING_BATCHES_PER_WRITE,
    Compressed,
    PositionBuffer,
    RawFrame,
    RawFrameCompressor,
    ReadingBuffer,
    record_zone_events,
    staggered,
)
from server.wiring import store_beacons, store_zone_documents
from simulator.wire import binary_readings_frame
from tests.server.harness import raw_frames_of
from zones import ZoneEvent

T0 = 1_790_000_000_000


# ---- positions codec -----------------------------------------------------------------------------


def test_packed_positions_round_trip_within_their_resolution() -> None:
    rng = np.random.default_rng(7)
    estimates = [
        Estimate(T0 + 1000 * i, float(x), float(y), float(h), float(a))
        for i, (x, y, h, a) in enumerate(
            zip(rng.uniform(0, 150, 300), rng.uniform(0, 80, 300), rng.uniform(0, 360, 300),
                rng.uniform(0.3, 12, 300), strict=True)
        )
    ]  # fmt: skip
    payload = pack_estimates(estimates, T0)
    assert len(payload) == 300 * POINT_DTYPE.itemsize == 300 * 16
    back = unpack_estimates(payload, T0)
    assert [b.t_ms for b in back] == [e.t_ms for e in estimates]
    for b, e in zip(back, estimates, strict=True):
        assert b.x == pytest.approx(e.x, abs=2e-5)  # float32 at 150 m: ~8 µm steps
        assert b.y == pytest.approx(e.y, abs=2e-5)
        assert abs((b.heading_deg - e.heading_deg + 180) % 360 - 180) <= 0.005 + 1e-9
        assert b.accuracy_m == pytest.approx(e.accuracy_m, abs=0.005 + 1e-9)


def test_buffered_positions_are_rows_the_collector_stops_walking() -> None:
    """A position waits up to a minute in its buffer: kept as an ``Estimate`` it would be walked
    by every collector pass for that minute, thousands of shoppers' at once; as a row of numbers
    it is untracked after its first pass, and the chunk packs the same bytes."""
    estimates = [Estimate(T0 + 1000 * k, 1.5 * k, 2.0, 90.0 + k, 1.25) for k in range(5)][::-1]
    buffer = PositionBuffer("v1", 1)
    buffer.extend(estimates)
    gc.collect(0)
    assert not any(gc.is_tracked(row) for row in buffer._estimates)
    chunk = buffer.take_chunk()
    assert chunk is not None
    assert (chunk["t_start_ms"], chunk["n_points"]) == (T0, 5)
    assert chunk["payload"] == pack_estimates(sorted(estimates, key=lambda e: e.t_ms), T0)
    assert buffer.take_chunk() is None


def test_a_heading_just_below_360_does_not_overflow_the_packed_field() -> None:
    (back,) = unpack_estimates(pack_estimates([Estimate(T0, 1, 1, 359.999, 1)], T0), T0)
    assert back.heading_deg == 0.0


# ---- limits --------------------------------------------------------------------------------------


def test_the_token_bucket_allows_a_burst_then_the_sustained_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=5.0, tokens=5.0)
    assert [bucket.allow(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.allow(0.05) is False  # half a token earned
    assert bucket.allow(0.1) is True  # one token earned in 0.1 s at 10/s
    assert [bucket.allow(100.0) for _ in range(6)] == [True] * 5 + [False]  # capped at burst


def test_timestamps_are_judged_against_the_receive_time() -> None:
    assert timestamp_problem(T0, T0) is None
    assert timestamp_problem(T0 - MAX_PAST_MS, T0) is None
    assert "past" in (timestamp_problem(T0 - MAX_PAST_MS - 1, T0) or "")
    assert "future" in (timestamp_problem(T0 + MAX_FUTURE_MS + 1, T0) or "")


# ---- CSV parsing ---------------------------------------------------------------------------------


def test_csv_rows_keep_their_file_line_even_with_quoted_newlines_and_a_bom() -> None:
    text = '\ufeffsku,name,category,price\nA,"Beans,\nwhole",coffee,4\nB,Milk,dairy,x\n'
    parsed = parse_products(text.encode("utf-8"))
    assert parsed.rows == [
        {"sku": "A", "name": "Beans,\nwhole", "category": "coffee", "price": 4.0}
    ]
    assert parsed.lines == [3]
    assert parsed.errors == [(4, "price 'x' is not a number")]


def test_customer_consents_are_normalised_and_checked() -> None:
    text = "customer_id,gender,age,tier,consents\nc1,FEMALE,30,gold, signage;location_analytics\n"
    (row,) = parse_customers(text.encode()).rows
    assert row["gender"] == "female"
    assert row["consents"] == "location_analytics;signage"
    with pytest.raises(CsvFormatError, match="header lacks"):
        parse_customers(b"id,gender\n1,male\n")


# ---- database parts ------------------------------------------------------------------------------


def test_migrations_create_exactly_the_tables_the_models_describe(database: Database) -> None:
    upgrade_to_head(database.engine)  # a second run is a no-op
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def seeded_shopper(database: Database) -> Shopper:
    with database.session() as session:
        store = Store(name="s", timezone="UTC", created_ms=T0)
        session.add(store)
        session.add(Customer(id="c1", gender="female", tier="", consents="", cap_ledger={}))
        session.flush()
        session.add(Visit(id="v1", store_id=store.id, customer_id="c1", started_ms=T0,
                          last_seen_ms=T0, app_version="1", consents=""))  # fmt: skip
        return Shopper("c1", store.id, "v1", frozenset())


def test_offer_status_only_moves_forward_and_replay_skips_the_acked(database: Database) -> None:
    shopper = seeded_shopper(database)
    occasion = Occasion("app_open", "c1", str(shopper.store_id), T0)
    drafts = tuple(OfferDraft("app", {"n": n}) for n in range(3))
    with database.session() as session:
        issued = issue_offers(session, shopper, occasion, DecisionResult(drafts, {"k": 1}), T0)
    assert [o.seq for o in issued] == [1, 2, 3]
    with database.session() as session:
        assert advance_status(session, "c1", issued[1].id, "redeemed", T0 + 5)
        assert advance_status(session, "c1", issued[1].id, "opened", T0 + 9)
        assert not advance_status(session, "someone-else", issued[0].id, "opened", T0)
        ack_through(session, "c1", 1, T0 + 10)
    with database.session() as session:
        pending = pending_app_offers(session, "c1", 0, T0 + 20)
        assert [o.seq for o in pending] == [3]
        customer = session.get(Customer, "c1")
        assert customer is not None
        assert customer.cap_ledger == {"k": 1}
        assert customer.offer_seq == 3


def test_retention_deletes_only_positions_older_than_the_setting(database: Database) -> None:
    shopper = seeded_shopper(database)
    now = T0 + 40 * DAY_MS
    with database.session() as session:
        for age_days in (45, 31, 29, 1):
            t = now - age_days * DAY_MS
            session.add(PositionChunk(visit_id=shopper.visit_id, store_id=shopper.store_id,
                                      floor_id=None, t_start_ms=t - 60_000, t_end_ms=t,
                                      n_points=1, payload=b"x" * 16))  # fmt: skip
    with database.session() as session:
        purged = purge_raw_positions(session, now, retention_days=30)
    assert purged.position_chunks == 2
    with database.session() as session:
        kept = sorted(c.t_end_ms for c in session.query(PositionChunk))
    assert kept == [now - 29 * DAY_MS, now - 1 * DAY_MS]


# ---- delivery bus --------------------------------------------------------------------------------


def test_the_redis_bus_carries_a_message_between_two_bus_instances() -> None:
    async def scenario() -> dict[str, object]:
        prefix = f"aislecast-test-{uuid.uuid4().hex[:8]}:"
        sender, receiver = (RedisBus("redis://127.0.0.1:6379/0", prefix) for _ in range(2))
        await sender.start()
        await receiver.start()
        try:
            async with await receiver.subscribe("screen:1:s") as subscription:
                await sender.publish("screen:1:other", {"not": "for us"})
                await sender.publish("screen:1:s", {"type": "content", "n": 1})
                return await asyncio.wait_for(subscription.get(), 5)
        finally:
            await sender.close()
            await receiver.close()

    assert asyncio.run(scenario()) == {"type": "content", "n": 1}


def test_the_redis_bus_sends_a_turns_live_frames_as_one_message_received_one_by_one() -> None:
    """``publish_soon`` of many frames in one turn of the event loop (a tick's positions): one
    Redis message per channel, and each subscriber still gets every frame, in order."""

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        prefix = f"aislecast-test-{uuid.uuid4().hex[:8]}:"
        sender, receiver = (RedisBus("redis://127.0.0.1:6379/0", prefix) for _ in range(2))
        raw = Redis.from_url("redis://127.0.0.1:6379/0")
        watcher = raw.pubsub(ignore_subscribe_messages=True)  # counts what goes through Redis
        await watcher.subscribe(prefix + "live:1")
        await sender.start()
        await receiver.start()
        try:
            async with (await receiver.subscribe("live:1") as live,
                        await receiver.subscribe("live:2") as other):  # fmt: skip
                for n in range(300):  # more than the pool has connections for one each
                    sender.publish_soon("live:1", {"type": "position", "n": n})
                sender.publish_soon("live:2", {"type": "offer"})
                got = [await asyncio.wait_for(live.get(), 5) for _ in range(300)]
                elsewhere = [await asyncio.wait_for(other.get(), 5)]
            messages = 0
            for _ in range(5):  # the subscribe confirmation reads as None too
                message = await watcher.get_message(timeout=0.1)
                messages += message is not None and message["type"] == "message"
            return got, elsewhere, messages
        finally:
            await sender.close()
            await receiver.close()
            await watcher.aclose()
            await raw.aclose()

    got, elsewhere, messages = asyncio.run(scenario())
    assert got == [{"type": "position", "n": n} for n in range(300)]
    assert elsewhere == [{"type": "offer"}]
    assert messages == 1


def test_the_local_bus_fans_out_to_every_subscriber_of_a_channel() -> None:
    async def scenario() -> list[dict[str, object]]:
        bus = DeliveryBus()
        first, second = await bus.subscribe("live:1"), await bus.subscribe("live:1")
        await bus.publish("live:1", {"n": 1})
        await first.close()
        await bus.publish("live:1", {"n": 2})
        return [first.queue.qsize(), await second.get(), await second.get()]  # type: ignore[list-item]

    assert asyncio.run(scenario()) == [1, {"n": 1}, {"n": 2}]


def test_a_channel_is_watched_while_someone_listens_here_and_always_over_redis() -> None:
    async def scenario() -> list[bool]:
        bus = DeliveryBus()
        seen = [bus.watched("live:1")]
        listener = await bus.subscribe("live:1")
        seen += [bus.watched("live:1"), bus.watched("live:2")]
        await listener.close()
        seen.append(bus.watched("live:1"))
        # Over Redis another process may listen: a publisher cannot skip anything.
        over_redis = RedisBus("redis://127.0.0.1:6379/0", "unused:")
        seen.append(over_redis.watched("live:1"))
        await over_redis.close()
        return seen

    assert asyncio.run(scenario()) == [False, True, False, False, True]


def test_the_core_loaders_read_zones_and_beacons_in_the_contract_shapes(database: Database) -> None:
    shopper = seeded_shopper(database)
    document = {"name": "Coffee", "kind": "shelf", "polygon": [[0, 0], [2, 0], [2, 1]],
                "categories": ["coffee"], "skus": [], "facing_deg": 90.0,
                "view_distance_m": 2.0}  # fmt: skip
    with database.session() as session:
        floor = Floor(store_id=shopper.store_id, name="g", width_m=10, height_m=5, created_ms=T0)
        session.add(floor)
        session.flush()
        session.add(Zone(store_id=shopper.store_id, id="z1", floor_id=floor.id, version=1,
                         document=document))  # fmt: skip
        session.add(Zone(store_id=shopper.store_id, id="z2", floor_id=floor.id, version=2,
                         document=document, deleted=True))  # fmt: skip
        session.add(Beacon(store_id=shopper.store_id, id="U_1_2_M", floor_id=floor.id, x=1.5,
                           y=2.5, tx_power_dbm=-59.0))  # fmt: skip
    with database.session() as session:
        zones = store_zone_documents(session, shopper.store_id)
        beacons = store_beacons(session, shopper.store_id)
    assert zones == [{"id": "z1", "floor_id": floor.id, **document}]
    assert beacons == {"U_1_2_M": (1.5, 2.5, -59.0)}


def test_a_store_snapshot_gives_decisions_the_time_zone_and_campaign_budget_counts(
    database: Database,
) -> None:
    shopper = seeded_shopper(database)
    with database.session() as session:
        store = session.get(Store, shopper.store_id)
        assert store is not None
        store.timezone = "Asia/Tokyo"
        campaign = Campaign(store_id=store.id, name="c", status="active", version=1, document={},
                            created_ms=T0, updated_ms=T0)  # fmt: skip
        session.add(campaign)
        session.flush()
        campaign_id = campaign.id
    occasion = Occasion("app_open", "c1", str(shopper.store_id), T0)
    drafts = (
        OfferDraft("app", {}, campaign_id=campaign_id),
        OfferDraft("app", {}, campaign_id=campaign_id),
        OfferDraft("app", {}, campaign_id=campaign_id, held_out=True),
    )
    with database.session() as session:
        issued = issue_offers(session, shopper, occasion, DecisionResult(drafts), T0)
        advance_status(session, "c1", issued[0].id, "redeemed", T0)
        assert not advance_status(session, "c1", "no-such-offer", "redeemed", T0)
    snapshot = load_snapshot(database, shopper.store_id, T0)
    assert snapshot.timezone == "Asia/Tokyo"
    assert snapshot.campaign_counts == {
        campaign_id: CampaignCounts(issued=2, redeemed=1, held_out=1)
    }


def test_a_visit_end_from_the_zone_detector_closes_the_visit(database: Database) -> None:
    shopper = seeded_shopper(database)
    events = [ZoneEvent("exit", "c1", "z", T0 + 5), ZoneEvent("visit_end", "c1", None, T0 + 6)]
    with database.session() as session:
        record_zone_events(session, shopper, events)
    with database.session() as session:
        visit = session.get(Visit, shopper.visit_id)
        assert visit is not None
        assert visit.ended_ms == T0 + 6


def test_the_login_guard_blocks_an_email_after_repeated_failures_for_its_window() -> None:
    guard = LoginGuard(max_failures=3, window_ms=1000)
    for t in (0, 100, 200):
        assert guard.blocked_for_ms("a@x", t) == 0
        guard.failed("a@x", t)
    assert guard.blocked_for_ms("a@x", 300) == 700  # until the first failure leaves the window
    assert guard.blocked_for_ms("b@x", 300) == 0  # other accounts are not affected
    assert guard.blocked_for_ms("a@x", 1000) == 0
    guard.failed("a@x", 1000)
    guard.succeeded("a@x")
    assert guard.blocked_for_ms("a@x", 1001) == 0


# ---- raw frames and the store radio ------------------------------------------------------------


class IdleCompressor(RawFrameCompressor):
    """A compressor that never gets to its frames (a saturated machine): flush must do it."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[RawFrame] = []

    def submit(self, frame: RawFrame) -> None:
        self.frames.append(frame)


def readings_text(t0: int, n: int) -> str:
    # Spaces and key order as a client may send them: the stored text must be this, byte for byte.
    return json.dumps({"type": "readings", "beacons": {"t_ms": [t0 + 10 * i for i in range(n)],
                       "beacon_id": ["b"] * n, "rssi_dbm": [-70.5] * n}}, indent=1)  # fmt: skip


def visit_frames(database: Database, visit_id: str) -> list[tuple[int, int, int, str | bytes]]:
    with database.session() as session:
        rows = session.scalars(
            select(RawReadingBatch).where(RawReadingBatch.visit_id == visit_id)
        ).all()
        return sorted((f.t_first_ms, f.t_last_ms, f.n_readings, f.frame)
                      for f in raw_frames_of(rows))  # fmt: skip


@pytest.mark.parametrize("compressed_in_background", [True, False])
def test_raw_frames_are_stored_as_received_whoever_compresses_them(
    database: Database, compressed_in_background: bool
) -> None:
    shopper = seeded_shopper(database)
    idle = IdleCompressor()
    buffer = ReadingBuffer(shopper, idle)
    texts = [readings_text(T0 + 1000 * k, k + 1) for k in range(3)]
    for text in texts:
        buffer.add(ReadingsBatch.model_validate_json(text), text)
    assert len(idle.frames) == buffer.pending() == 3
    if compressed_in_background:
        for frame in idle.frames:
            frame.payload()  # what the compressor thread does
        assert all(isinstance(frame.data, Compressed) for frame in idle.frames)  # text dropped
    with database.session() as session:
        buffer.flush(session)
    assert buffer.pending() == 0
    expected = [(T0 + 1000 * k, T0 + 1000 * k + 10 * k, k + 1, texts[k]) for k in range(3)]
    assert visit_frames(database, shopper.visit_id) == expected


def test_shoppers_who_connect_together_write_their_raw_frames_in_different_ticks(
    database: Database,
) -> None:
    """The first write comes after 1 to 10 frames by shopper, then every 10: a thousand shoppers
    who connect in the same second spread their writes over ten seconds, not all in one tick."""
    firsts = [staggered(READING_BATCHES_PER_WRITE, f"customer-{k}") for k in range(1000)]
    counts = np.bincount(firsts, minlength=READING_BATCHES_PER_WRITE + 1)
    assert counts[0] == 0  # 1..10 only
    assert len(counts) == READING_BATCHES_PER_WRITE + 1
    assert 60 < counts[1:].min() <= counts.max() < 140  # ≈ 100 each
    assert staggered(READING_BATCHES_PER_WRITE, "customer-7") == firsts[7]  # the same each time
    shopper = seeded_shopper(database)
    buffer = ReadingBuffer(shopper, IdleCompressor(), first_write=3)
    full_after = []
    for k in range(25):
        text = readings_text(T0 + 1000 * k, 1)
        buffer.add(ReadingsBatch.model_validate_json(text), text)
        if buffer.full():
            full_after.append(k + 1)
            with database.session() as session:
                buffer.flush(session)
    assert full_after == [3, 13, 23]
    assert len(visit_frames(database, shopper.visit_id)) == 23


def test_the_background_compressor_compresses_every_frame_of_every_burst() -> None:
    """The thread sleeps between bursts and wakes for the next one: it, not a flush, compresses
    every frame (a missed wake-up would leave a burst for the flush)."""
    compressor = RawFrameCompressor()
    bursts = [[RawFrame(T0, T0, 1, readings_text(T0, 1 + k + 20 * b)) for k in range(20)]
              for b in range(3)]  # fmt: skip
    for burst in bursts:
        for frame in burst:
            compressor.submit(frame)
        deadline = time.monotonic() + 30
        while (
            any(not isinstance(f.data, Compressed) for f in burst) and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        assert all(isinstance(f.data, Compressed) for f in burst)
    assert [decode_frame(f.payload()) for burst in bursts for f in burst] == [
        readings_text(T0, 1 + k) for k in range(60)
    ]


def test_new_raw_frames_are_zstandard_frames_read_back_as_the_text() -> None:
    text = readings_text(T0, 7) + " é"  # non-ASCII survives the UTF-8 round trip
    payload = RawFrame(T0, T0, 7, text).payload()
    assert payload.startswith(ZSTD_MAGIC)
    assert len(payload) < len(text.encode())
    assert decode_frame(payload) == text


@pytest.mark.parametrize("level", [1, 6, 9])
def test_raw_frames_stored_with_zlib_before_are_still_read(level: int) -> None:
    text = readings_text(T0, 5)
    assert decode_frame(zlib.compress(text.encode("utf-8"), level)) == text


def test_a_raw_frame_payload_of_no_known_codec_is_refused() -> None:
    with pytest.raises(UnknownRawFrameCodec):
        decode_frame(b'{"type": "readings"}')


def test_a_segment_gives_back_each_frame_with_its_times_and_count() -> None:
    frames = [(T0 + 1000 * k, T0 + 1000 * k + 990, k + 1, readings_text(T0 + 1000 * k, k + 1))
              for k in range(3)]  # fmt: skip
    frames.append((T0 + 3000, T0 + 3500, 4, b"\x81\xa4type\xa8readings"))  # a binary frame
    payload = pack_segment([(t0, t1, n, encode_frame(data)) for t0, t1, n, data in frames])
    assert payload.startswith(SEGMENT_MAGIC)
    # The row's own span is not what the frames are read from.
    assert stored_frames(0, 0, 0, payload) == [StoredFrame(*frame) for frame in frames]


def test_a_row_of_one_frame_written_before_segments_is_read_as_one_frame() -> None:
    text = readings_text(T0, 5)
    assert stored_frames(T0, T0 + 50, 5, encode_frame(text)) == [StoredFrame(T0, T0 + 50, 5, text)]


@pytest.mark.parametrize("cut", [1, 5, 30])
def test_a_segment_cut_short_or_with_bytes_after_its_frames_is_refused(cut: int) -> None:
    payload = pack_segment([(T0, T0, 1, encode_frame(readings_text(T0, 1)))] * 2)
    for broken in (payload[:-cut], payload + b"x" * cut):
        with pytest.raises(UnknownRawFrameCodec):
            stored_frames(T0, T0, 2, broken)
    with pytest.raises(UnknownRawFrameCodec):
        stored_frames(T0, T0, 2, SEGMENT_MAGIC)


def test_a_full_buffer_is_written_as_one_row_of_its_frames(database: Database) -> None:
    shopper = seeded_shopper(database)
    buffer = ReadingBuffer(shopper, IdleCompressor(), first_write=READING_BATCHES_PER_WRITE)
    texts = [readings_text(T0 + 1000 * k, 2) for k in range(READING_BATCHES_PER_WRITE)]
    for text in texts:
        buffer.add(ReadingsBatch.model_validate_json(text), text)
    assert buffer.full()
    with database.session() as session:
        buffer.flush(session)
    with database.session() as session:
        rows = session.scalars(select(RawReadingBatch)).all()
        assert [(r.t_first_ms, r.n_readings) for r in rows] == [(T0, 2 * len(texts))]
        assert [f.frame for f in raw_frames_of(rows)] == texts


def add_radio_store(database: Database) -> tuple[int, int]:
    with database.session() as session:
        store = Store(name="radio", timezone="UTC", created_ms=T0)
        session.add(store)
        session.flush()
        floor = Floor(store_id=store.id, name="g", width_m=10, height_m=5, created_ms=T0)
        session.add(floor)
        session.flush()
        session.add(Beacon(store_id=store.id, id="b1", floor_id=floor.id, x=1.0, y=1.0))
        return store.id, floor.id


def test_the_store_radio_is_read_once_per_check_interval_and_an_edit_is_seen_after_it(
    database: Database,
) -> None:
    store_id, floor_id = add_radio_store(database)
    clock = [T0]
    trackers = StoreTrackers(database, clock=lambda: clock[0], check_ms=2000)
    first = trackers.radio(store_id)
    assert first is not None
    assert set(first.beacon_map.beacons) == {"b1"}
    with database.session() as session:  # staff add a beacon
        session.add(Beacon(store_id=store_id, id="b2", floor_id=floor_id, x=9.0, y=4.0))
    clock[0] += 1999
    assert trackers.radio(store_id) is first  # within the interval: not read again
    clock[0] += 1
    edited = trackers.radio(store_id)  # the next connect after the interval sees the edit
    assert edited is not None
    assert set(edited.beacon_map.beacons) == {"b1", "b2"}
    clock[0] += 2000
    assert trackers.radio(store_id) is edited  # read again, unchanged: the same radio kept


# ---- the served process's garbage collector -----------------------------------------------------


def test_the_served_app_raises_the_young_gc_threshold_and_tests_keep_pythons_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(database_url="sqlite://").gc_young_threshold == 0  # apps built in tests
    monkeypatch.delenv("AISLECAST_GC_YOUNG_THRESHOLD", raising=False)
    assert settings_from_env().gc_young_threshold == SERVING_GC_YOUNG_THRESHOLD
    monkeypatch.setenv("AISLECAST_GC_YOUNG_THRESHOLD", "0")
    assert settings_from_env().gc_young_threshold == 0
    before = gc.get_threshold()
    try:
        tune_gc_for_serving(12_345)
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 0  # startup's objects are out of every pass
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_binary_raw_frame_is_stored_byte_for_byte_and_read_back_as_bytes(
    database: Database,
) -> None:
    shopper = seeded_shopper(database)
    buffer = ReadingBuffer(shopper, IdleCompressor())
    frame = {"type": "readings", "beacons": {"t_ms": [T0, T0 + 10], "beacon_id": ["b", "c"],
             "rssi_dbm": [-70.5, -71.0]}}  # fmt: skip
    data = binary_readings_frame(frame)
    text = readings_text(T0 + 1000, 2)
    buffer.add(decode_binary_readings(data), data)
    buffer.add(ReadingsBatch.model_validate_json(text), text)
    with database.session() as session:
        buffer.flush(session)
    stored = visit_frames(database, shopper.visit_id)
    assert stored == [(T0, T0 + 10, 2, data), (T0 + 1000, T0 + 1010, 2, text)]
    assert is_binary_frame(data)
    assert isinstance(stored[0][3], bytes)
    assert isinstance(stored[1][3], str)  # a JSON frame still reads back as its text
    assert decode_binary_readings(stored[0][3]).count() == 2  # and the bytes decode again
