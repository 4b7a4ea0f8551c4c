//! The live store contract: the in-process adapter and the Redis adapter must behave the same.

mod common;

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use attn::Clock;
use attn::error::{Entity, Error};
use chrono::Duration;
use common::{TestEnv, attended, session};
use uuid::Uuid;

attn::on_every_backend!(
    common::env;
    a_created_session_reads_back_whole,
    a_teacher_has_at_most_one_active_session,
    concurrent_starts_by_one_teacher_let_exactly_one_through,
    a_new_session_may_start_once_the_last_one_ended,
    records_are_added_updated_and_listed,
    a_record_for_a_removed_session_is_refused,
    finishing_ends_the_session_now_and_keeps_its_data,
    a_finish_cut_short_never_keeps_the_teacher_from_the_next_session,
    expired_sessions_are_listed_oldest_first,
    active_sessions_are_found_by_lesson_and_teacher_name,
    a_claim_is_exclusive_until_released,
    removing_a_session_forgets_it_everywhere,
    counters_count_within_a_window_and_start_again_after_it,
    the_first_successful_check_in_stands,
    a_device_belongs_to_the_first_student_who_used_it,
    watchers_hear_of_every_change_of_their_session_from_any_instance,
    a_watcher_that_goes_away_lets_go_of_its_subscription,
    rechecks_are_added_one_at_a_time_and_outlive_a_finish,
    notices_for_join_pages_reach_every_instance,
    face_descriptors_stay_with_their_session_and_go_with_it,
);

async fn notices_for_join_pages_reach_every_instance(env: TestEnv) {
    use attn::live::StudentNotice;
    use tokio::time::timeout;
    let limit = StdDuration::from_secs(5);
    let mut here = env.live.notices().await.unwrap();
    let other = env.second_live_handle().await;
    let mut there = other.notices().await.unwrap();
    let everyone = StudentNotice {
        session_id: Uuid::new_v4(),
        student: None,
    };
    let one = StudentNotice {
        session_id: everyone.session_id,
        student: Some("1306200001".into()),
    };
    other.announce(&everyone).await.unwrap();
    env.live.announce(&one).await.unwrap();
    for subscription in [&mut here, &mut there] {
        let first = timeout(limit, subscription.recv()).await.expect("told");
        let second = timeout(limit, subscription.recv()).await.expect("told");
        assert_eq!(first.as_ref(), Some(&everyone));
        assert_eq!(second.as_ref(), Some(&one));
    }
}

async fn face_descriptors_stay_with_their_session_and_go_with_it(env: TestEnv) {
    let now = env.clock.now();
    let s = session("T1", "Fizik", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    let (a, b) = (vec![0.25f32; 128], vec![-0.5f32; 128]);
    assert!(env.live.add_face(s.id, "1", &a).await.unwrap().is_empty());
    assert_eq!(
        env.live.add_face(s.id, "2", &b).await.unwrap(),
        [("1".to_owned(), a.clone())]
    );
    // A second selfie of one student replaces the first.
    let a2 = vec![0.125f32; 128];
    assert_eq!(
        env.live.add_face(s.id, "1", &a2).await.unwrap(),
        [("2".to_owned(), b.clone())]
    );
    assert_eq!(env.live.add_face(s.id, "3", &a).await.unwrap().len(), 2);
    assert!(matches!(
        env.live.add_face(Uuid::new_v4(), "1", &a).await,
        Err(Error::NotFound(Entity::Session))
    ));
    // Persisted and removed, the session keeps no face: the same id made again starts empty.
    env.live.remove_session(s.id).await.unwrap();
    assert!(matches!(
        env.live.add_face(s.id, "4", &a).await,
        Err(Error::NotFound(Entity::Session))
    ));
    env.live.create_session(&s, now).await.unwrap();
    assert!(env.live.add_face(s.id, "4", &a).await.unwrap().is_empty());
}

async fn rechecks_are_added_one_at_a_time_and_outlive_a_finish(env: TestEnv) {
    use attn::domain::Recheck;
    let start = env.clock.now();
    let s = session("T1", "Fizik", start, 10);
    env.live.create_session(&s, start).await.unwrap();
    let recheck = |number: u16, minute: i64| Recheck {
        number,
        started_at: start + Duration::minutes(minute),
        ends_at: start + Duration::minutes(minute) + Duration::seconds(90),
    };
    let mut changes = env.live.subscribe(s.id).await.unwrap();
    assert!(env.live.add_recheck(s.id, &recheck(1, 2), 0).await.unwrap());
    tokio::time::timeout(StdDuration::from_secs(5), changes.recv())
        .await
        .expect("watchers hear of a re-check")
        .unwrap();
    // Another one asked for on a stale view of the session (a double click) is not added.
    assert!(!env.live.add_recheck(s.id, &recheck(1, 2), 0).await.unwrap());
    assert!(env.live.add_recheck(s.id, &recheck(2, 5), 1).await.unwrap());
    env.live
        .put_record(s.id, &attended(1, start))
        .await
        .unwrap();
    assert_eq!(
        env.live.session(s.id).await.unwrap().unwrap().rechecks,
        [recheck(1, 2), recheck(2, 5)]
    );
    // Finishing rewrites the session, never its re-checks.
    env.advance(Duration::minutes(7));
    env.live.finish(s.id, env.clock.now()).await.unwrap();
    let finished = env.live.session(s.id).await.unwrap().unwrap();
    assert_eq!(finished.rechecks, [recheck(1, 2), recheck(2, 5)]);
    assert!(env.live.add_recheck(s.id, &recheck(3, 8), 2).await.unwrap());
    assert_eq!(
        env.live
            .session(s.id)
            .await
            .unwrap()
            .unwrap()
            .rechecks
            .len(),
        3
    );
    env.live.remove_session(s.id).await.unwrap();
    assert!(matches!(
        env.live.add_recheck(s.id, &recheck(4, 9), 3).await,
        Err(Error::NotFound(Entity::Session))
    ));
    // Nothing of it is left behind for a session that reuses nothing but the teacher.
    let next = session("T1", "Kimya", env.clock.now(), 10);
    env.live
        .create_session(&next, env.clock.now())
        .await
        .unwrap();
    assert!(
        env.live
            .session(next.id)
            .await
            .unwrap()
            .unwrap()
            .rechecks
            .is_empty()
    );
}

async fn watchers_hear_of_every_change_of_their_session_from_any_instance(env: TestEnv) {
    use tokio::time::timeout;
    let limit = StdDuration::from_secs(5);
    let now = env.clock.now();
    let s = session("T1", "Fizik", now, 10);
    let other_session = session("T2", "Kimya", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    env.live.create_session(&other_session, now).await.unwrap();
    let mut watcher = env.live.subscribe(s.id).await.unwrap();
    let other = env.second_live_handle().await;

    // A change of another session says nothing to this watcher...
    other
        .put_record(other_session.id, &attended(9, now))
        .await
        .unwrap();
    // ...while a check-in through another instance does.
    other
        .record_check_in(s.id, &attended(1, now))
        .await
        .unwrap();
    timeout(limit, watcher.recv())
        .await
        .expect("told of the check-in")
        .unwrap();
    assert!(
        watcher.try_recv().is_err(),
        "only its own session's changes"
    );
    other.put_record(s.id, &attended(2, now)).await.unwrap();
    timeout(limit, watcher.recv())
        .await
        .expect("told of the record")
        .unwrap();
    env.live.finish(s.id, now).await.unwrap();
    timeout(limit, watcher.recv())
        .await
        .expect("told of the end")
        .unwrap();
}

async fn a_watcher_that_goes_away_lets_go_of_its_subscription(env: TestEnv) {
    let now = env.clock.now();
    let s = session("T1", "Fizik", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    let other = env.second_live_handle().await;
    // Ten live pages open; the session ends and they are closed. Nothing is published after
    // that: the subscriptions must go without a last message to notice it by.
    let pages: Vec<_> = futures_util::future::join_all((0..10).map(|_| env.live.subscribe(s.id)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        other.watchers(s.id).await.unwrap(),
        10,
        "seen from any instance"
    );
    env.live.finish(s.id, now).await.unwrap();
    drop(pages);
    let released = async {
        while other.watchers(s.id).await.unwrap() > 0 {
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(StdDuration::from_secs(5), released)
        .await
        .expect("every subscription released within 5 s");
}

async fn the_first_successful_check_in_stands(env: TestEnv) {
    let now = env.clock.now();
    let s = session("T1", "Fizik", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    let mut failed = attended(1, now);
    failed.is_attended = false;
    failed.fail_reason = Some(attn::domain::FailReason::WifiFailed);
    assert_eq!(
        env.live.record_check_in(s.id, &failed).await.unwrap(),
        failed
    );
    // A retry after a failure replaces it.
    let ok = attended(1, now + Duration::seconds(30));
    assert_eq!(env.live.record_check_in(s.id, &ok).await.unwrap(), ok);
    // A later failure does not undo the success.
    assert_eq!(env.live.record_check_in(s.id, &failed).await.unwrap(), ok);
    assert_eq!(
        env.live.record(s.id, &ok.student_number).await.unwrap(),
        Some(ok.clone())
    );
    // A student the teacher removed stays removed.
    let mut removed = attended(2, now);
    removed.is_attended = false;
    removed.deletion = Some(attn::domain::Deletion {
        reason: "Sınıfta değil".into(),
        by: "T1".into(),
        at: now,
    });
    env.live.put_record(s.id, &removed).await.unwrap();
    assert_eq!(
        env.live
            .record_check_in(s.id, &attended(2, now))
            .await
            .unwrap(),
        removed
    );
    assert!(matches!(
        env.live.record_check_in(Uuid::new_v4(), &ok).await,
        Err(Error::NotFound(Entity::Session))
    ));
}

async fn a_device_belongs_to_the_first_student_who_used_it(env: TestEnv) {
    let now = env.clock.now();
    let s = session("T1", "Fizik", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    let other = env.second_live_handle().await;
    assert_eq!(
        env.live.claim_device(s.id, "dev-a", "1001").await.unwrap(),
        "1001"
    );
    assert_eq!(
        other.claim_device(s.id, "dev-a", "1002").await.unwrap(),
        "1001"
    );
    assert_eq!(
        env.live.claim_device(s.id, "dev-a", "1001").await.unwrap(),
        "1001"
    );
    assert_eq!(
        other.claim_device(s.id, "dev-b", "1002").await.unwrap(),
        "1002"
    );
    // Another session starts afresh.
    let s2 = session("T2", "Kimya", now, 10);
    env.live.create_session(&s2, now).await.unwrap();
    assert_eq!(
        env.live.claim_device(s2.id, "dev-a", "1002").await.unwrap(),
        "1002"
    );
}

async fn counters_count_within_a_window_and_start_again_after_it(env: TestEnv) {
    let window = StdDuration::from_secs(600);
    let start = env.clock.now();
    let other = env.second_live_handle().await;
    assert_eq!(
        env.live
            .peek("login:ip:10.0.0.1", start)
            .await
            .unwrap()
            .count,
        0
    );
    let first = env
        .live
        .hit("login:ip:10.0.0.1", window, start)
        .await
        .unwrap();
    assert_eq!(
        (first.count, first.resets_at),
        (1, start + Duration::minutes(10))
    );
    env.advance(Duration::minutes(9));
    // Another instance counts into the same window.
    let second = other
        .hit("login:ip:10.0.0.1", window, env.clock.now())
        .await
        .unwrap();
    assert_eq!((second.count, second.resets_at), (2, first.resets_at));
    assert_eq!(
        env.live
            .peek("login:ip:10.0.0.1", env.clock.now())
            .await
            .unwrap()
            .count,
        2
    );
    assert_eq!(
        env.live
            .peek("login:ip:10.0.0.2", env.clock.now())
            .await
            .unwrap()
            .count,
        0
    );
    env.advance(Duration::minutes(1));
    let now = env.clock.now();
    assert_eq!(
        env.live.peek("login:ip:10.0.0.1", now).await.unwrap().count,
        0
    );
    assert_eq!(
        env.live
            .hit("login:ip:10.0.0.1", window, now)
            .await
            .unwrap()
            .count,
        1
    );
    env.live.clear("login:ip:10.0.0.1").await.unwrap();
    assert_eq!(
        env.live.peek("login:ip:10.0.0.1", now).await.unwrap().count,
        0
    );
}

async fn a_created_session_reads_back_whole(env: TestEnv) {
    let s = session("T1", "Veri Yapıları", env.clock.now(), 10);
    env.live.create_session(&s, env.clock.now()).await.unwrap();
    assert_eq!(env.live.session(s.id).await.unwrap(), Some(s.clone()));
    assert_eq!(
        env.live
            .active_session_of("T1", env.clock.now())
            .await
            .unwrap(),
        Some(s)
    );
    assert!(env.live.session(Uuid::new_v4()).await.unwrap().is_none());
}

async fn a_teacher_has_at_most_one_active_session(env: TestEnv) {
    let now = env.clock.now();
    let first = session("T1", "Fizik", now, 10);
    env.live.create_session(&first, now).await.unwrap();
    let second = session("T1", "Kimya", now, 10);
    match env.live.create_session(&second, now).await {
        Err(Error::ActiveSessionExists(running)) => assert_eq!(running, first.id),
        other => panic!("expected ActiveSessionExists, got {other:?}"),
    }
    assert!(env.live.session(second.id).await.unwrap().is_none());
    // Another teacher is not affected.
    env.live
        .create_session(&session("T2", "Kimya", now, 10), now)
        .await
        .unwrap();
}

async fn concurrent_starts_by_one_teacher_let_exactly_one_through(env: TestEnv) {
    let now = env.clock.now();
    let other = env.second_live_handle().await;
    let attempts = (0..8).map(|i| {
        let store = if i % 2 == 0 {
            env.live.clone()
        } else {
            other.clone()
        };
        let s = session("T1", &format!("Ders {i}"), now, 10);
        tokio::spawn(async move { store.create_session(&s, now).await })
    });
    let results = futures_join(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::ActiveSessionExists(_))))
        .count();
    assert_eq!((won, refused), (1, 7), "{results:?}");
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

async fn a_new_session_may_start_once_the_last_one_ended(env: TestEnv) {
    let now = env.clock.now();
    let first = session("T1", "Fizik", now, 10);
    env.live.create_session(&first, now).await.unwrap();
    env.advance(Duration::minutes(10));
    let now = env.clock.now();
    assert!(
        env.live
            .active_session_of("T1", now)
            .await
            .unwrap()
            .is_none()
    );
    let second = session("T1", "Fizik", now, 10);
    env.live.create_session(&second, now).await.unwrap();
    assert_eq!(
        env.live
            .active_session_of("T1", now)
            .await
            .unwrap()
            .map(|s| s.id),
        Some(second.id)
    );
    // The ended one stays for the sweep.
    assert!(env.live.session(first.id).await.unwrap().is_some());
}

async fn records_are_added_updated_and_listed(env: TestEnv) {
    let now = env.clock.now();
    let s = session("T1", "Fizik", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    for n in [3, 1, 2] {
        env.live.put_record(s.id, &attended(n, now)).await.unwrap();
    }
    let mut failed = attended(2, now);
    failed.is_attended = false;
    failed.fail_reason = Some(attn::domain::FailReason::WifiFailed);
    env.live.put_record(s.id, &failed).await.unwrap();

    let records = env.live.records(s.id).await.unwrap();
    let numbers: Vec<_> = records.iter().map(|r| r.student_number.as_str()).collect();
    assert_eq!(numbers, vec!["1306200001", "1306200002", "1306200003"]);
    assert_eq!(records[1], failed);
    assert_eq!(
        env.live.record(s.id, "1306200002").await.unwrap(),
        Some(failed)
    );
    assert!(env.live.record(s.id, "nobody").await.unwrap().is_none());
    assert!(env.live.records(Uuid::new_v4()).await.unwrap().is_empty());
}

async fn a_record_for_a_removed_session_is_refused(env: TestEnv) {
    let now = env.clock.now();
    assert!(matches!(
        env.live.put_record(Uuid::new_v4(), &attended(1, now)).await,
        Err(Error::NotFound(Entity::Session))
    ));
    let s = session("T1", "Fizik", now, 10);
    env.live.create_session(&s, now).await.unwrap();
    env.live.remove_session(s.id).await.unwrap();
    assert!(env.live.put_record(s.id, &attended(1, now)).await.is_err());
    assert!(env.live.records(s.id).await.unwrap().is_empty());
}

async fn finishing_ends_the_session_now_and_keeps_its_data(env: TestEnv) {
    let start = env.clock.now();
    let s = session("T1", "Fizik", start, 10);
    env.live.create_session(&s, start).await.unwrap();
    env.live
        .put_record(s.id, &attended(1, start))
        .await
        .unwrap();
    env.advance(Duration::minutes(3));
    let now = env.clock.now();
    env.live.finish(s.id, now).await.unwrap();

    let finished = env.live.session(s.id).await.unwrap().unwrap();
    assert_eq!(finished.end_time, now);
    assert!(
        env.live
            .active_session_of("T1", now)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        env.live.expired_sessions(now, 10).await.unwrap(),
        vec![s.id]
    );
    assert_eq!(env.live.records(s.id).await.unwrap().len(), 1);
    // The teacher may start the next lesson at once.
    env.live
        .create_session(&session("T1", "Kimya", now, 10), now)
        .await
        .unwrap();
    assert!(matches!(
        env.live.finish(Uuid::new_v4(), now).await,
        Err(Error::NotFound(Entity::Session))
    ));
}

async fn expired_sessions_are_listed_oldest_first(env: TestEnv) {
    let now = env.clock.now();
    let long = session("T1", "Uzun", now, 30);
    let short = session("T2", "Kısa", now, 5);
    let medium = session("T3", "Orta", now, 10);
    for s in [&long, &short, &medium] {
        env.live.create_session(s, now).await.unwrap();
    }
    assert!(env.live.expired_sessions(now, 10).await.unwrap().is_empty());
    env.advance(Duration::minutes(10));
    let now = env.clock.now();
    assert_eq!(
        env.live.expired_sessions(now, 10).await.unwrap(),
        vec![short.id, medium.id],
        "a session ending exactly now counts as ended"
    );
    assert_eq!(
        env.live.expired_sessions(now, 1).await.unwrap(),
        vec![short.id]
    );
}

async fn active_sessions_are_found_by_lesson_and_teacher_name(env: TestEnv) {
    let now = env.clock.now();
    let mut data = session("T1", "Veri Yapıları ve Algoritmalar", now, 10);
    data.teacher_full_name = "Dr. Öğr. Üyesi. İLKER ŞAHİN".into();
    let mut physics = session("T2", "Fizik I", now, 10);
    physics.teacher_full_name = "Prof. Dr. AYŞE YILMAZ".into();
    let mut ended = session("T3", "Veri Tabanı", now - Duration::minutes(20), 10);
    ended.teacher_full_name = "İlker Şahin".into();
    for s in [&data, &physics, &ended] {
        env.live.create_session(s, now).await.unwrap();
    }
    let found = env
        .live
        .find_active("veri yapilari", "ilker sahin", now)
        .await
        .unwrap();
    assert_eq!(found, vec![data.clone()]);
    let all: HashSet<_> = env
        .live
        .find_active("", "", now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(all, HashSet::from([data.id, physics.id]));
    assert!(
        env.live
            .find_active("kimya", "", now)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_claim_is_exclusive_until_released(env: TestEnv) {
    let now = env.clock.now();
    let id = Uuid::new_v4();
    let lease = StdDuration::from_secs(60);
    let other = env.second_live_handle().await;
    assert!(env.live.claim(id, "a", lease, now).await.unwrap());
    assert!(!other.claim(id, "b", lease, now).await.unwrap());
    // Only the holder can release.
    other.release(id, "b").await.unwrap();
    assert!(!other.claim(id, "b", lease, now).await.unwrap());
    env.live.release(id, "a").await.unwrap();
    assert!(other.claim(id, "b", lease, now).await.unwrap());
}

async fn removing_a_session_forgets_it_everywhere(env: TestEnv) {
    let now = env.clock.now();
    let mut s = session("T1", "Fizik", now, 10);
    s.lesson_name = "Fizik <script>alert(1)</script>".into();
    env.live.create_session(&s, now).await.unwrap();
    env.live.put_record(s.id, &attended(1, now)).await.unwrap();
    env.live.remove_session(s.id).await.unwrap();
    env.live.remove_session(s.id).await.unwrap();

    assert!(env.live.session(s.id).await.unwrap().is_none());
    assert!(env.live.records(s.id).await.unwrap().is_empty());
    assert!(
        env.live
            .active_session_of("T1", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(env.live.find_active("", "", now).await.unwrap().is_empty());
    env.advance(Duration::hours(1));
    assert!(
        env.live
            .expired_sessions(env.clock.now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The teacher is free again.
    env.live
        .create_session(&session("T1", "Kimya", now, 10), now)
        .await
        .unwrap();
}

async fn a_finish_cut_short_never_keeps_the_teacher_from_the_next_session(env: TestEnv) {
    let start = env.clock.now();
    let s = session("T1", "Fizik", start, 10);
    env.live.create_session(&s, start).await.unwrap();
    env.advance(Duration::minutes(3));
    let now = env.clock.now();
    if env.redis_url().is_some() {
        // The first step of a finish on Redis (the session's own end) and nothing after it:
        // the teacher's lock still names the session with its old end.
        let mut ended = s.clone();
        ended.end_time = now;
        env.raw_redis_set(
            &format!("session:{{{}}}", s.id),
            &serde_json::to_string(&ended).unwrap(),
        )
        .await;
    } else {
        // In-process, a finish cannot stop half-way; the whole one stands in for it.
        env.live.finish(s.id, now).await.unwrap();
    }
    assert_eq!(
        active_session_id(&env, "T1", now).await,
        None,
        "the session shows as ended"
    );
    let next = session("T1", "Kimya", now, 10);
    env.live
        .create_session(&next, now)
        .await
        .expect("the teacher starts the next lesson at once");
    assert_eq!(active_session_id(&env, "T1", now).await, Some(next.id));
    // Finishing the first one again (as the teacher's retry would) leaves the new one alone.
    env.live.finish(s.id, now).await.unwrap();
    assert_eq!(active_session_id(&env, "T1", now).await, Some(next.id));
}

async fn active_session_id(
    env: &TestEnv,
    teacher: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Uuid> {
    env.live
        .active_session_of(teacher, now)
        .await
        .unwrap()
        .map(|a| a.id)
}
