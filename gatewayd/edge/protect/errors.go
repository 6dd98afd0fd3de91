package protect

import "errors"

// ErrInvalidConfig is matched (errors.Is) by every error the constructors
// return for a bad config; the message names the field and its limit.
var ErrInvalidConfig = errors.New("protect: invalid config")
