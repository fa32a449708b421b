package asl

import (
	"context"
	"sync"
	"time"
)

// runParallel performs one attempt of a Parallel state: every branch runs on
// the effective input; the result is the array of branch outputs. The first
// branch to fail fails the state with its error and the others are aborted.
func (r *runner) runParallel(ctx context.Context, st *state, input any, ctxObj map[string]any) (any, *failure) {
	eff, f := r.effectiveInput(st, input, ctxObj)
	if f != nil {
		return nil, f
	}
	r.emit(Event{Type: "ParallelStateStarted", StateName: st.name})
	branches := st.parallel.branches
	results, f := r.fanOut(ctx, len(branches), 0, func(ctx context.Context, i int) (any, *failure) {
		return r.runScope(ctx, branches[i], eff)
	})
	if f != nil {
		if !f.aborted {
			r.emit(Event{Type: "ParallelStateFailed", StateName: st.name, Error: f.name, Cause: f.cause})
		}
		return nil, f
	}
	r.emit(Event{Type: "ParallelStateSucceeded", StateName: st.name})
	return r.applyResult(st, input, results, ctxObj)
}

// runMap performs one attempt of an inline Map state: the item processor runs
// once per item of ItemsPath (shaped by ItemSelector), at most MaxConcurrency
// at a time (0: no limit); the result is the array of outputs in item order.
func (r *runner) runMap(ctx context.Context, st *state, input any, entered time.Time, retry int64) (any, *failure) {
	ms := st.mapState
	ctxObj := r.contextObject(st, entered, retry, nil)
	eff, f := selectPath(st.inputPath, input, "InputPath", ctxObj)
	if f != nil {
		return nil, f
	}
	v, f := selectPath(ms.itemsPath, eff, "ItemsPath", ctxObj)
	if f != nil {
		return nil, f
	}
	items, ok := v.([]any)
	if !ok {
		return nil, runtimeFailure("The ItemsPath '%s' of state '%s' selects a %s, not an array", ms.itemsPath.text, st.name, typeName(v))
	}
	limit := ms.maxConcurrency
	if p := ms.maxConcurrencyPath; p != nil {
		mv, found := p.lookup(eff)
		n, isInt := asInt(mv)
		if !found || !isInt || n < 0 {
			return nil, runtimeFailure("The MaxConcurrencyPath '%s' of state '%s' does not select a non-negative integer in %s",
				p.text, st.name, jsonText(eff))
		}
		limit = n
	}
	r.emit(Event{Type: "MapStateStarted", StateName: st.name})
	results, f := r.fanOut(ctx, len(items), limit, func(ctx context.Context, i int) (any, *failure) {
		in := items[i]
		if ms.itemSelector != nil {
			ictx := r.contextObject(st, entered, retry, &mapItem{index: i, value: items[i]})
			var f *failure
			if in, f = ms.itemSelector.eval(&evalEnv{input: eff, ctx: ictx}); f != nil {
				return nil, f
			}
		}
		r.emit(Event{Type: "MapIterationStarted", StateName: st.name, Index: i})
		out, f := r.runScope(ctx, ms.processor, in)
		switch {
		case f == nil:
			r.emit(Event{Type: "MapIterationSucceeded", StateName: st.name, Index: i})
		case f.aborted:
			r.emit(Event{Type: "MapIterationAborted", StateName: st.name, Index: i})
		default:
			r.emit(Event{Type: "MapIterationFailed", StateName: st.name, Index: i, Error: f.name, Cause: f.cause})
		}
		return out, f
	})
	if f != nil {
		if !f.aborted {
			r.emit(Event{Type: "MapStateFailed", StateName: st.name, Error: f.name, Cause: f.cause})
		}
		return nil, f
	}
	r.emit(Event{Type: "MapStateSucceeded", StateName: st.name})
	return r.applyResult(st, input, results, ctxObj)
}

// fanOut runs fn for 0..n-1 with at most limit running at once (0: all) and
// collects the results in order. The first failure cancels the others and is
// returned once every started run has finished, so no event of a sibling
// follows the state's own failure.
func (r *runner) fanOut(ctx context.Context, n int, limit int64, fn func(context.Context, int) (any, *failure)) ([]any, *failure) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if limit <= 0 || limit > int64(n) {
		limit = int64(n)
	}
	results := make([]any, n)
	sem := make(chan struct{}, max(limit, 1))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first *failure
	)
start:
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break start
		}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			v, f := fn(ctx, i)
			mu.Lock()
			defer mu.Unlock()
			if f != nil {
				if first == nil || (first.aborted && !f.aborted && ctx.Err() == nil) {
					first = f
				}
				cancel()
				return
			}
			results[i] = v
		}(i)
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = abortFailure
	}
	return results, first
}
