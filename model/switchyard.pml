/*
 * switchyard.pml: the primary lease / fence / promote protocol of Switchyard
 * as a Promela model for spin. See model/README.md for what is modelled, what
 * is assumed, and how to run it; model/model_test.go runs it in `make test`.
 *
 * Time is discrete. One tick is one time unit (UNIT_MS, 500 ms by default);
 * every step between two ticks happens at the same instant. The timing
 * constants are passed by the Go test as -D defines computed from
 * internal/cluster/safety.go (the one source). The values below exist only
 * so that spin can be run by hand; they are the defaults at 500 ms a tick.
 *
 * Clocks: the state machine's clock is the reference (only the difference
 * between a node's clock and the state machine's clock enters any
 * comparison). Node i's clock reads true time + off[i], with
 * |off[i]| <= SKEW, chosen at start and able to jump within the bound.
 *
 * Every instant in the record and in the agents is kept as a countdown to
 * it in true time (so the state space is finite); countdowns saturate at
 * FLOOR, below which no comparison changes.
 */

#ifndef UNIT_MS
#define UNIT_MS 500
#endif
#ifndef LEASE
#define LEASE 16	/* DefaultLeaseSeconds */
#endif
#ifndef RENEW
#define RENEW 4		/* DefaultRenewSeconds */
#endif
#ifndef MARGIN
#define MARGIN 2	/* DefaultClockMarginMs */
#endif
#ifndef STOPB
#define STOPB 2		/* DefaultStopBudgetMs */
#endif
#ifndef FS
#define FS 4		/* DefaultFailsafeReplySeconds */
#endif
#ifndef WD
#define WD 10		/* lease - renew - 1 s */
#endif
#ifndef SKEW
#define SKEW 1		/* largest node-vs-state-machine clock difference, < MARGIN */
#endif
#ifndef STOPMAX
#define STOPMAX STOPB	/* an immediate stop completes within its budget */
#endif
#ifndef FSWAIT
#define FSWAIT (FS + WD + MARGIN)	/* fence wait after the standby stopped streaming */
#endif
#ifndef FS_ON
#define FS_ON 1		/* failsafe enabled */
#endif
#ifndef FS_PETS
#define FS_PETS 1	/* the agent pets the watchdog while failsafe holds */
#endif
#ifndef RXBLOCK
#define RXBLOCK 1	/* the fence stops the candidate's WAL receiver */
#endif

/* Fault budget: at most FAULTS fault events per run, of the kinds switched
 * on below (each 1 = on). Healing (partition ends, node restarts, agent
 * resumes) is free. */
#ifndef FAULTS
#define FAULTS 2
#endif
#ifndef CRASH_ON
#define CRASH_ON 1	/* node crash: PostgreSQL and agent */
#endif
#ifndef HANG_ON
#define HANG_ON 1	/* agent hang (watchdog) */
#endif
#ifndef PREC_ON
#define PREC_ON 1	/* partition node <-> record */
#endif
#ifndef PREPL_ON
#define PREPL_ON 1	/* partition node <-> node (replication) */
#endif
#ifndef JUMP_ON
#define JUMP_ON 1	/* a clock jumps within the bound */
#endif
#ifndef DEGRADE_ON
#define DEGRADE_ON 1	/* policy "available" drops to async */
#endif
#ifndef STEAL_ON
#define STEAL_ON 1	/* an execution stalls, its lock expires, another takes over */
#endif
#ifndef ABORT_ON
#define ABORT_ON 1	/* an execution ends half-way */
#endif
#ifndef LOSS_ON
#define LOSS_ON 1	/* a renewal (request or answer) is lost */
#endif
#ifndef EXEC_MAX
#define EXEC_MAX 2	/* executions that get past Assess, per run */
#endif
#ifndef RETRY_ON
#define RETRY_ON 1	/* a step crashes and is retried */
#endif
#ifndef MAXW
#define MAXW 2		/* client commits per run */
#endif
#define can(KIND) (KIND && faults < FAULTS)

#ifdef MUTANT_NO_FAILSAFE_WAIT
#undef FSWAIT
#define FSWAIT 0	/* promote as soon as the standby stopped streaming */
#endif

#define FLOOR (-(MARGIN + SKEW))

/* PostgreSQL states. STOPPING is an immediate stop in progress: until it
 * completes, the server may still acknowledge a commit. */
#define DOWN 0
#define STANDBY 1
#define WRITABLE 2
#define STOPPING 3
#define wr(i) (pg[i] == WRITABLE || pg[i] == STOPPING)

/* ---- the cluster record (linearizable conditional writes) ---- */
byte r_primary = 0;	/* recorded primary */
bool r_revoked = false;	/* primary lease revoked */
short r_lexp = LEASE;	/* primary lease expiry, countdown, SM frame */
bool r_eligible = true;	/* the standby is eligible (was the synchronous standby) */
byte r_lock = 0;	/* failover lock: 0 free, else the execution slot holding it */

/* ---- the nodes ---- */
bool up[2];		/* node (agent and PostgreSQL) running */
bool hung[2];		/* agent hung; PostgreSQL keeps running */
byte pg[2];		/* DOWN, STANDBY, WRITABLE, STOPPING */
short bexp[2];		/* the agent's own idea of its lease expiry (countdown) */
byte wd[2];		/* watchdog: ticks left until it takes PostgreSQL down */
byte stopt[2];		/* ticks left for a stop to complete */
byte ren[2];		/* writable primary: ticks to its next loop (0 = due) */
bool async[2];		/* primary acknowledges without the standby */
byte wal[2];		/* commits durable on the node (a counter) */
byte rage[2];		/* ticks since a streaming standby last replied (FS+1 = none) */
bool rew[2];		/* data may have diverged: pg_rewind before following */
bool rxblock[2];	/* WAL receiver stopped by the fence */
short off[2];		/* clock offset vs the state machine's clock */
bool prec[2];		/* node cut from the cluster record */
bool prepl;		/* replication link cut */
bool dead0;		/* LIVENESS: node 0 crashed for good */

/* ---- ghosts and budgets ---- */
byte acked;		/* highest commit acknowledged to a client */
byte commits;
byte fork = 255;	/* the promoted node's WAL at the last promotion */
byte faults;
byte execs;		/* executions past Assess */
short obst[3];		/* per execution slot: fence wait left (SM's clock) */

#define streaming(s, p) (!prepl && up[s] && pg[s] == STANDBY && !rxblock[s] && up[p] && wr(p))
#define failsafe(i) (FS_ON && rage[i] <= FS)
#ifdef MUTANT_SELF_FENCE_LATE
#define selffence(i) (pg[i] == WRITABLE && bexp[i] <= off[i] && !failsafe(i))
#else
#define selffence(i) (pg[i] == WRITABLE && bexp[i] <= off[i] + STOPB && !failsafe(i))
#endif
#define alive(i) (up[i] && !hung[i])
#define due(i) (alive(i) && (selffence(i) || (wr(i) && ren[i] == 0)))
#define wddue(i) (wr(i) && wd[i] == 0)
#define stopdue(i) (pg[i] == STOPPING && stopt[i] == 0)
#define urgent (due(0) || due(1) || wddue(0) || wddue(1) || stopdue(0) || stopdue(1))

#define dec(x) if :: x > FLOOR -> x-- :: else -> skip fi

inline down(i) {
	pg[i] = DOWN; ren[i] = 0; off[i] = 0; stopt[i] = 0; wd[i] = 0; bexp[i] = FLOOR; rage[i] = FS + 1; async[i] = false
}

inline stop(i) {
	if
	:: pg[i] == WRITABLE -> pg[i] = STOPPING; stopt[i] = STOPMAX
	:: else -> skip
	fi
}

inline crash(i) {
	up[i] = false; hung[i] = false; down(i)
}

/* i becomes writable: data check (property 2) and watchdog armed */
/* a node that becomes primary: its clock, anywhere within the bound */
inline pickoff(i) {
	if :: off[i] = -SKEW :: off[i] = 0 :: off[i] = SKEW fi
}

inline writable(i) {
	if :: wal[i] < acked -> printf("EV VIOLATION: node %d becomes primary with wal %d < acked %d\n", i, wal[i], acked) :: else -> skip fi;
	assert(wal[i] >= acked);
	pg[i] = WRITABLE; wd[i] = WD; ren[i] = RENEW; async[i] = false; rxblock[i] = false; rage[i] = FS + 1
}

/* ---- time ---- */
proctype Tick() {
	do
	:: atomic { !urgent -> printf("TICK\n");
		dec(r_lexp);
		dec(bexp[0]); dec(bexp[1]);
		if :: wr(0) && wd[0] > 0 -> wd[0]-- :: else fi;
		if :: wr(1) && wd[1] > 0 -> wd[1]-- :: else fi;
		if :: wr(0) && ren[0] > 0 -> ren[0]-- :: else fi;
		if :: wr(1) && ren[1] > 0 -> ren[1]-- :: else fi;
		if :: stopt[0] > 0 -> stopt[0]-- :: else fi;
		if :: stopt[1] > 0 -> stopt[1]-- :: else fi;
		/* a connected standby replies every tick (the worst case for failsafe) */
		if :: streaming(1, 0) -> rage[0] = 0 :: wr(0) && !streaming(1, 0) && rage[0] <= FS -> rage[0]++ :: else fi;
		if :: streaming(0, 1) -> rage[1] = 0 :: wr(1) && !streaming(0, 1) && rage[1] <= FS -> rage[1]++ :: else fi;
		if :: obst[1] > 0 -> obst[1]-- :: else fi;
		if :: obst[2] > 0 -> obst[2]-- :: else fi
	}
	od
}

/* ---- PostgreSQL's own timers: stop completion and the node watchdog ---- */
proctype Kernel() {
	do
	:: atomic { stopdue(0) -> down(0); printf("EV node 0: PostgreSQL down (stop done)\n") }
	:: atomic { stopdue(1) -> down(1); printf("EV node 1: PostgreSQL down (stop done)\n") }
	:: atomic { wddue(0) -> down(0); printf("EV node 0: watchdog fired: PostgreSQL down\n") }
	:: atomic { wddue(1) -> down(1); printf("EV node 1: watchdog fired: PostgreSQL down\n") }
	od
}

/* ---- the node agent ---- */
/* The agent checks in with the watchdog only while its right to be writable
 * covers the watchdog's whole timeout: its lease (local clock + WD <= expiry
 * - STOP_BUDGET), or failsafe (a standby replied within FS). */
#define covered(i) (bexp[i] - off[i] >= WD + STOPB)
inline pet(i) {
#ifdef MUTANT_PET_ALWAYS
	if :: wr(i) -> wd[i] = WD :: else -> skip fi
#else
	if :: wr(i) && (covered(i) || (FS_PETS && failsafe(i))) -> wd[i] = WD :: else -> skip fi
#endif
}

proctype Agent(byte i) {
	do
	:: atomic { alive(i) && selffence(i) -> stop(i); printf("EV node %d agent: lease about to expire, no failsafe: immediate stop\n", i) }
	/* the loop: every RENEW while writable, at any time otherwise */
	:: atomic { alive(i) && (ren[i] == 0 || !wr(i)) ->
		if
		:: prec[i] -> pet(i)
		:: can(LOSS_ON) -> faults++; pet(i); printf("EV node %d agent: renewal lost\n", i)	/* request lost */
		:: !prec[i] && r_primary == i && !r_revoked && can(LOSS_ON) ->
			faults++;	/* renewal applied, answer lost */
			r_lexp = off[i] + LEASE; pet(i); printf("EV node %d agent: renewal applied, answer lost\n", i)
		:: !prec[i] && r_primary == i && !r_revoked ->
			if :: !wr(i) -> pickoff(i) :: else -> skip fi;
			r_lexp = off[i] + LEASE; bexp[i] = r_lexp; pet(i);
			printf("EV node %d agent: lease renewed (clock offset %d)\n", i, off[i]);
			if
			:: pg[i] == DOWN || pg[i] == STANDBY -> writable(i); bexp[i] = r_lexp
			:: else -> skip
			fi;
			/* eligible again only after catching up, in sync mode */
			if
			:: !r_eligible && pg[i] == WRITABLE && !async[i] && streaming(1 - i, i) && wal[1 - i] == wal[i] ->
				r_eligible = true; printf("EV node %d agent: standby caught up: eligible\n", i)
			:: else -> skip
			fi
		:: !prec[i] && r_primary == i && r_revoked ->
			if :: wr(i) -> printf("EV node %d agent: lease revoked: stop\n", i) :: else -> skip fi;
			stop(i)
		:: !prec[i] && r_primary != i ->
			if :: pg[i] == WRITABLE -> printf("EV node %d agent: not the recorded primary: stop\n", i) :: else -> skip fi;
			stop(i);
			if
			:: pg[i] == DOWN ->
				/* start as a standby of the recorded primary (pg_rewind) */
				if :: rew[i] && wal[i] > fork -> wal[i] = fork :: else -> skip fi;
				rew[i] = false;
				pg[i] = STANDBY; printf("EV node %d agent: started as standby (wal %d)\n", i, wal[i])
			:: else -> skip
			fi;
			if :: rxblock[i] && !r_revoked && r_lock == 0 -> rxblock[i] = false :: else -> skip fi
		fi;
		if :: wr(i) -> ren[i] = RENEW :: else -> ren[i] = 0 fi
	   }
	/* policy "available": drop to async only after marking the standby ineligible */
	:: atomic { alive(i) && pg[i] == WRITABLE && !async[i] && can(DEGRADE_ON) &&
#ifndef MUTANT_ASYNC_WITHOUT_RECORD
		!prec[i] && r_primary == i && !r_revoked &&
#endif
		true ->
		faults++;
#ifndef MUTANT_ASYNC_WITHOUT_RECORD
		r_eligible = false;
#endif
		async[i] = true; printf("EV node %d agent: standby marked ineligible; async\n", i)
	   }
	:: atomic { alive(i) && async[i] -> async[i] = false }
	od
}

/* ---- clients, replication and faults ---- */
inline commit(p) {
	wal[p]++; commits++;
	if :: async[p] -> acked = wal[p] :: else -> skip fi;
	printf("EV node %d: commit %d (acked %d)\n", p, wal[p], acked)
}

inline replicate(s, p) {
	wal[s] = wal[p]; rage[p] = 0;
	if :: !async[p] && acked < wal[p] -> acked = wal[p] :: else -> skip fi;
	printf("EV node %d flushed WAL of node %d up to %d (acked %d)\n", s, p, wal[s], acked)
}

proctype Env() {
	do
	:: atomic { wr(0) && commits < MAXW -> commit(0) }
	:: atomic { wr(1) && commits < MAXW -> commit(1) }
	:: atomic { streaming(1, 0) && wal[1] != wal[0] -> replicate(1, 0) }
	:: atomic { streaming(0, 1) && wal[0] != wal[1] -> replicate(0, 1) }
	:: atomic { up[0] && can(CRASH_ON) -> faults++; crash(0); printf("EV node 0 crashed\n") }
	:: atomic { up[1] && can(CRASH_ON) -> faults++; crash(1); printf("EV node 1 crashed\n") }
#ifdef LIVENESS
	:: atomic { up[0] && !dead0 -> dead0 = true; crash(0); printf("EV node 0 crashed for good\n") }
	:: atomic { !up[0] && !dead0 -> up[0] = true; printf("EV node 0 restarted\n") }
#else
	:: atomic { !up[0] -> up[0] = true; printf("EV node 0 restarted\n") }
#endif
	:: atomic { !up[1] -> up[1] = true; printf("EV node 1 restarted\n") }
	:: atomic { alive(0) && can(HANG_ON) -> faults++; hung[0] = true; printf("EV node 0 agent hung\n") }
	:: atomic { alive(1) && can(HANG_ON) -> faults++; hung[1] = true; printf("EV node 1 agent hung\n") }
	:: atomic { hung[0] -> hung[0] = false; printf("EV node 0 agent resumed\n") }
	:: atomic { hung[1] -> hung[1] = false; printf("EV node 1 agent resumed\n") }
	:: atomic { !prec[0] && can(PREC_ON) -> faults++; prec[0] = true; printf("EV node 0 cut from the record\n") }
	:: atomic { !prec[1] && can(PREC_ON) -> faults++; prec[1] = true; printf("EV node 1 cut from the record\n") }
	:: atomic { prec[0] -> prec[0] = false; printf("EV node 0 reaches the record again\n") }
	:: atomic { prec[1] -> prec[1] = false; printf("EV node 1 reaches the record again\n") }
	:: atomic { !prepl && can(PREPL_ON) -> faults++; prepl = true; printf("EV replication link cut\n") }
	:: atomic { prepl -> prepl = false; printf("EV replication link healed\n") }
	:: atomic { wr(0) && can(JUMP_ON) -> faults++; if :: off[0] = -SKEW :: off[0] = SKEW fi }
	:: atomic { wr(1) && can(JUMP_ON) -> faults++; if :: off[1] = -SKEW :: off[1] = SKEW fi }
	od
}

/* ---- the failover state machine: two execution slots (k = 1, 2) ---- */
#ifdef LIVENESS
#define signals(old) (!up[old])
#else
#define signals(old) true	/* two signals can both be wrong: not relied on */
#endif

#ifdef MUTANT_NO_CLOCK_MARGIN
#define expired (r_lexp <= 0)
#elif defined(MUTANT_PROMOTE_BEFORE_EXPIRY)
#define expired true
#else
#define expired (r_lexp <= -MARGIN)
#endif

/* a hard fence is confirmed only by the instance really being stopped */
#ifdef MUTANT_NOTFOUND_IS_FENCED
#define fenced hard
#else
#define fenced (hard && !up[old])
#endif

#ifdef MUTANT_NO_ELIGIBLE_AT_PROMOTE
#define stilleligible true
#else
#define stilleligible r_eligible
#endif

#define holds (r_lock == k && r_primary == old)
#define cand (1 - old)
#define mayrun(k) ((k == 1 && (r_lock == 0 || r_lock == k)) || (r_lock != 0 && r_lock != k && can(STEAL_ON)))
#ifdef LIVENESS
#define execok true
#else
#define execok (execs < EXEC_MAX)
#endif
#define assessok (r_eligible && up[1 - r_primary] && pg[1 - r_primary] == STANDBY && signals(r_primary) && execok)
#define reset hard = false; obs = false; obst[k] = 0; old = 0

proctype Exec(byte k) {
	byte old;
	bool hard, obs;
idle:
	/* Take the failover lock (bumping the epoch) and Assess (read-only).
	 * An assessment that refuses is the same as not starting. */
	atomic { mayrun(k) && assessok ->
		if :: r_lock != 0 && r_lock != k -> faults++ :: else -> skip fi;	/* lock taken over */
		r_lock = k; old = r_primary;
#ifndef LIVENESS
		execs++;
#endif
		printf("EV exec %d: lock taken, assess: fail over from node %d\n", k, old)
	};
	/* Fence 1: revoke the old primary's lease, conditional on the lock */
	if
	:: atomic { holds -> r_revoked = true; printf("EV exec %d: lease of node %d revoked (expires in %d)\n", k, old, r_lexp) }
	:: atomic { !holds -> reset }; goto idle
	fi;
fence:
	/* Fence 2: lease path (the candidate no longer streams from the old
	 * primary: observed, then waited for) or hard fence (forced stop) */
	if
	:: atomic { !streaming(cand, old) ->
		obs = true; obst[k] = FSWAIT; printf("EV exec %d: node %d not streaming from node %d; wait %d\n", k, cand, old, FSWAIT);
#if RXBLOCK
		rxblock[cand] = true;
#endif
	   }
	:: atomic { hard = true; printf("EV exec %d: hard stop of node %d\n", k, old); if :: up[old] -> crash(old) :: else -> skip fi }	/* StopInstances Force */
#ifdef MUTANT_NOTFOUND_IS_FENCED
	:: hard = true		/* the stop call was lost, and a NotFound taken for "stopped" */
#endif
	:: atomic { !holds -> reset }; goto idle
	fi;
	/* Promote: conditional write, then pg_promote */
	do
	:: atomic { holds && r_revoked && stilleligible && (fenced || (expired && obs && obst[k] == 0)) ->
		printf("EV exec %d: record: primary = node %d (old lease expired %d ticks ago)\n", k, cand, -r_lexp);
		r_primary = cand; r_revoked = false; r_lexp = LEASE; r_eligible = false;
		fork = wal[cand]; rew[old] = true };
		break
	:: atomic { !holds -> reset }; goto idle		/* lost the lock: stop */
	:: atomic { can(RETRY_ON) -> faults++; hard = false; obs = false; obst[k] = 0 }; goto fence	/* step crashed, retried */
	:: atomic { can(ABORT_ON) -> faults++; reset }; goto idle	/* execution ends; lock left to expire */
	od;
	atomic {
		if
		:: up[cand] && pg[cand] == STANDBY && r_primary == cand ->
			pickoff(cand); writable(cand); bexp[cand] = r_lexp;
			printf("EV exec %d: pg_promote node %d: WRITABLE (wal %d, acked %d)\n", k, cand, wal[cand], acked)
		:: else -> skip
		fi;
		if :: r_lock == k -> r_lock = 0 :: else -> skip fi;
		reset
	};
	goto idle
}

/* ---- property 1: never two nodes that can acknowledge a write ---- */
proctype Monitor() {
	atomic { wr(0) && wr(1) -> printf("EV VIOLATION: nodes 0 and 1 both writable\n"); assert(false) }
}

init {
	atomic {
		if :: off[0] = -SKEW :: off[0] = 0 :: off[0] = SKEW fi;
		up[0] = true; up[1] = true;
		pg[0] = WRITABLE; pg[1] = STANDBY;
		r_lexp = off[0] + LEASE; bexp[0] = r_lexp; bexp[1] = FLOOR;
		wd[0] = WD; rage[0] = 0; ren[0] = RENEW; rage[1] = FS + 1;
		run Tick(); run Kernel(); run Monitor(); run Env();
		run Agent(0); run Agent(1);
		run Exec(1); run Exec(2)
	}
}

#ifdef LIVENESS
ltl failover { [] ((dead0 && r_eligible) -> <> (r_primary == 1 && pg[1] == WRITABLE)) }
#endif
