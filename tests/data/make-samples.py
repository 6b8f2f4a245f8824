#!/usr/bin/env python3
"""Writes the small sample logs in tests/data/, one per format `skipwise` reads, in each format's
exact layout (the public files cannot be downloaded here, nor redistributed). Seeded: running it
again writes the same bytes. Listeners have a favourite genre; they rate or play it through and
rate low or skip the others, so every sample has FPs and something to learn.

    python3 tests/data/make-samples.py
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261201)
ITEMS, GENRES, USERS = 120, 6, 40


def genre(item):
    return item % GENRES


def sessions():
    """(user, [(item, liked)]) per session: 2-3 sessions per user of 8-20 events."""
    out = []
    for user in range(1, USERS + 1):
        fav = rng.randrange(GENRES)
        for _ in range(rng.randint(2, 3)):
            events = []
            for _ in range(rng.randint(8, 20)):
                if rng.random() < 0.7:
                    item = rng.choice([i for i in range(1, ITEMS + 1) if genre(i) == fav])
                else:
                    item = rng.randint(1, ITEMS)
                liked = genre(item) == fav or rng.random() < 0.15
                events.append((item, liked))
            out.append((user, events))
    return out


def write(name, lines):
    with open(os.path.join(HERE, name), 'w', newline='') as f:
        f.write(''.join(line + '\n' for line in lines))


def stamps(log):
    """Each session a day apart per user, events 4 minutes apart."""
    t0, out = 880_000_000, []
    for s, (user, events) in enumerate(log):
        start = t0 + s * 86_400
        out.append([(user, item, liked, start + k * 240) for k, (item, liked) in enumerate(events)])
    return out


log = stamps(sessions())
flat = [e for s in log for e in s]
rating = lambda liked: rng.choice([4, 5]) if liked else rng.choice([1, 2, 3])

write('ml-100k-u.data', [f'{u}\t{i}\t{rating(l)}\t{t}' for u, i, l, t in flat])
write('ml-100k.inter', ['user_id:token\titem_id:token\trating:float\ttimestamp:float']
      + [f'{u}\t{i}\t{rating(l)}\t{t}' for u, i, l, t in flat])
write('ml-1m-ratings.dat', [f'{u}::{i}::{rating(l)}::{t}' for u, i, l, t in flat])
write('ml-latest-ratings.csv', ['userId,movieId,rating,timestamp']
      + [f'{u},{i},{rating(l) - (rng.choice([0, 0.5]) if l else 0):.1f},{t}' for u, i, l, t in flat])

# MSSD: string session and track ids; skip_1 ⊂ skip_2 ⊂ skip_3, not_skipped their opposite.
rows = ['session_id,session_position,session_length,track_id_clean,skip_1,skip_2,skip_3,not_skipped,'
        'context_switch,no_pause_before_play,short_pause_before_play,long_pause_before_play,'
        'hist_user_behavior_n_seekfwd,hist_user_behavior_n_seekback,hist_user_behavior_is_shuffle,'
        'hour_of_day,date,premium,context_type,hist_user_behavior_reason_start,hist_user_behavior_reason_end']
for s, events in enumerate(log):
    sid = f'{s:04d}_{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}'
    for k, (u, i, liked, t) in enumerate(events):
        depth = 0 if liked else rng.choice([1, 2, 3])
        flags = [depth == 1, 1 <= depth <= 2, depth >= 1, depth == 0]
        b = lambda x: 'true' if x else 'false'
        rows.append(f'{sid},{k + 1},{len(events)},t_{i:05d}{"abcdef"[i % 6]}{i * 7919 % 1000:03d},'
                    + ','.join(b(x) for x in flags)
                    + f',0,1,0,0,0,0,{b(rng.random() < 0.3)},{10 + k % 12},2018-07-{1 + s % 28:02d},true,'
                    + ('user_collection' if s % 2 else 'editorial_playlist') + ',fwdbtn,'
                    + ('trackdone' if liked else 'fwdbtn'))
write('mssd-log.csv', rows)

# Last.fm-1K: tab-separated, newest first per user; a skip is a next play a few seconds later.
def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')

rows, by_user = [], {}
for events in log:
    t, out = events[0][3], []
    for u, i, liked, _ in events:
        out.append((u, i, t))
        t += rng.randint(180, 300) if liked else rng.randint(3, 8)
    by_user.setdefault(events[0][0], []).extend(out)
for u in sorted(by_user):
    for _, i, t in sorted(by_user[u], key=lambda e: -e[2]):
        mbid = '' if i % 17 == 0 else f'{i:08x}-0000-4000-8000-{i * 31:012x}'
        rows.append(f'user_{u:06d}\t{iso(t)}\t{genre(i):08x}-aaaa-4bbb-8ccc-{genre(i):012x}\tArtist {genre(i)}\t{mbid}\tTrack {i}')
write('lastfm-1k.tsv', rows)

# A generic CSV: named columns in another order, played and full seconds, a quoted title.
rows = ['listener,when,track,seconds_played,track_seconds']
for events in log:
    for u, i, liked, t in events:
        length = 150 + (i * 37) % 150
        rows.append(f'"listener {u}",{t},"Song {i}, take {i % 3}",{length if liked else rng.randint(1, 9)},{length}')
write('plays-generic.csv', rows)
