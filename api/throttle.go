package api

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// ErrThrottled is in the chain of a read or change that was not sent
// because the provider's rate budget, shared by every session of the
// process, would not have a request free before the call's deadline.
var ErrThrottled = errors.New("throttled")

// ThrottledError says nothing was sent for want of budget, and when the
// budget will allow a request again: sessions say "throttled, next refresh
// in Ns" and wait that long instead of failing.
type ThrottledError struct {
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled: the provider's request budget, shared by every session, is spent for now; nothing was sent. A request can go out in %s", e.Seconds())
}

func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Seconds is the wait rounded up to whole seconds ("3s"), never "0s".
func (e *ThrottledError) Seconds() string {
	s := max(1, int((e.Wait+time.Second-1)/time.Second))
	return fmt.Sprintf("%ds", s)
}

// AsThrottled reports whether err says a call was throttled.
func AsThrottled(err error) (*ThrottledError, bool) {
	var te *ThrottledError
	ok := errors.As(err, &te)
	return te, ok
}

// throttled measures how long l needs before it has a request free,
// without taking it.
func throttled(l *rate.Limiter) *ThrottledError {
	r := l.Reserve()
	d := r.Delay()
	r.Cancel()
	return &ThrottledError{Wait: d}
}
