package s3

import (
	"encoding/xml"
	"net/http"

	"cairn.dev/cairn/blobd/meta"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// lifecycleConfiguration is S3's LifecycleConfiguration, as far as blobd's
// rules go: a prefix filter (Filter/Prefix, or the older rule-level
// Prefix), Transition to STANDARD_IA or GLACIER after Days, Expiration after
// Days, and AbortIncompleteMultipartUpload.
type lifecycleConfiguration struct {
	XMLName xml.Name        `xml:"LifecycleConfiguration"`
	Rules   []lifecycleRule `xml:"Rule"`
}

type lifecycleRule struct {
	ID     string           `xml:"ID,omitempty"`
	Prefix *string          `xml:"Prefix,omitempty"`
	Filter *lifecycleFilter `xml:"Filter,omitempty"`
	Status string           `xml:"Status"`

	Transitions []lifecycleTransition `xml:"Transition,omitempty"`
	Expiration  *lifecycleExpiration  `xml:"Expiration,omitempty"`
	AbortMPU    *abortIncompleteMPU   `xml:"AbortIncompleteMultipartUpload,omitempty"`

	// Refused: what blobd's rules cannot express.
	NoncurrentTransition *struct{} `xml:"NoncurrentVersionTransition,omitempty"`
	NoncurrentExpiration *struct{} `xml:"NoncurrentVersionExpiration,omitempty"`
}

type lifecycleFilter struct {
	Prefix *string   `xml:"Prefix"`
	And    *struct{} `xml:"And,omitempty"`
	Tag    *struct{} `xml:"Tag,omitempty"`
	// ObjectSizeGreaterThan / LessThan are refused as well.
	SizeGreater *int64 `xml:"ObjectSizeGreaterThan,omitempty"`
	SizeLess    *int64 `xml:"ObjectSizeLessThan,omitempty"`
}

type lifecycleTransition struct {
	Days         *int32  `xml:"Days,omitempty"`
	Date         *string `xml:"Date,omitempty"`
	StorageClass string  `xml:"StorageClass"`
}

type lifecycleExpiration struct {
	Days                      *int32  `xml:"Days,omitempty"`
	Date                      *string `xml:"Date,omitempty"`
	ExpiredObjectDeleteMarker *bool   `xml:"ExpiredObjectDeleteMarker,omitempty"`
}

type abortIncompleteMPU struct {
	DaysAfterInitiation int32 `xml:"DaysAfterInitiation"`
}

// lifecycleXMLNS is the namespace of a LifecycleConfiguration answered.
type lifecycleOut struct {
	XMLName xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LifecycleConfiguration"`
	Rules   []lifecycleRule `xml:"Rule"`
}

// rulesFromXML converts S3 rules to blobd's, refusing what blobd cannot do.
func rulesFromXML(in []lifecycleRule) ([]*blobdraftv1.LifecycleRule, error) {
	if len(in) == 0 {
		return nil, errorf(http.StatusBadRequest, CodeMalformedXML, "The lifecycle configuration must hold at least one Rule")
	}
	out := make([]*blobdraftv1.LifecycleRule, 0, len(in))
	for _, r := range in {
		lr := &blobdraftv1.LifecycleRule{Id: r.ID}
		switch r.Status {
		case "Enabled":
		case "Disabled":
			lr.Disabled = true
		default:
			return nil, errorf(http.StatusBadRequest, CodeMalformedXML, "Rule %q: Status must be Enabled or Disabled", r.ID)
		}
		if r.Prefix != nil {
			lr.Prefix = *r.Prefix
		}
		if f := r.Filter; f != nil {
			if f.And != nil || f.Tag != nil || f.SizeGreater != nil || f.SizeLess != nil {
				return nil, errorf(http.StatusNotImplemented, CodeNotImplemented, "Rule %q: only a Prefix filter is supported", r.ID)
			}
			if f.Prefix != nil {
				lr.Prefix = *f.Prefix
			}
		}
		if r.NoncurrentTransition != nil || r.NoncurrentExpiration != nil {
			return nil, errorf(http.StatusNotImplemented, CodeNotImplemented, "Rule %q: buckets are not versioned", r.ID)
		}
		for _, t := range r.Transitions {
			if t.Days == nil || t.Date != nil {
				return nil, errorf(http.StatusNotImplemented, CodeNotImplemented, "Rule %q: transitions must give Days", r.ID)
			}
			tier, err := tierOf(t.StorageClass)
			if err != nil {
				return nil, err
			}
			switch tier {
			case blobdraftv1.Tier_TIER_COOL:
				lr.TransitionCoolDays = *t.Days
			case blobdraftv1.Tier_TIER_ARCHIVE:
				lr.TransitionArchiveDays = *t.Days
			default:
				return nil, errorf(http.StatusBadRequest, CodeInvalidStorageClass, "Rule %q: transitions go to STANDARD_IA or GLACIER", r.ID)
			}
		}
		if e := r.Expiration; e != nil {
			if e.Days == nil || e.Date != nil || e.ExpiredObjectDeleteMarker != nil {
				return nil, errorf(http.StatusNotImplemented, CodeNotImplemented, "Rule %q: expiration must give Days", r.ID)
			}
			lr.ExpirationDays = *e.Days
		}
		if a := r.AbortMPU; a != nil {
			lr.AbortIncompleteMultipartDays = a.DaysAfterInitiation
		}
		out = append(out, lr)
	}
	if err := meta.ValidateLifecycle(out); err != nil {
		return nil, errorf(http.StatusBadRequest, CodeInvalidArgument, "%s", messageOf(err))
	}
	return out, nil
}

// rulesToXML converts blobd's rules to S3's.
func rulesToXML(in []*blobdraftv1.LifecycleRule) []lifecycleRule {
	out := make([]lifecycleRule, 0, len(in))
	for _, r := range in {
		prefix := r.GetPrefix()
		lr := lifecycleRule{ID: r.GetId(), Filter: &lifecycleFilter{Prefix: &prefix}, Status: "Enabled"}
		if r.GetDisabled() {
			lr.Status = "Disabled"
		}
		if d := r.GetTransitionCoolDays(); d > 0 {
			lr.Transitions = append(lr.Transitions, lifecycleTransition{Days: &d, StorageClass: classStandardIA})
		}
		if d := r.GetTransitionArchiveDays(); d > 0 {
			lr.Transitions = append(lr.Transitions, lifecycleTransition{Days: &d, StorageClass: classGlacier})
		}
		if d := r.GetExpirationDays(); d > 0 {
			lr.Expiration = &lifecycleExpiration{Days: &d}
		}
		if d := r.GetAbortIncompleteMultipartDays(); d > 0 {
			lr.AbortMPU = &abortIncompleteMPU{DaysAfterInitiation: d}
		}
		out = append(out, lr)
	}
	return out
}

// putLifecycle is PutBucketLifecycleConfiguration: the rules replace the
// bucket's.
func (h *Handler) putLifecycle(c *call) error {
	var cfg lifecycleConfiguration
	if err := h.readXML(c, &cfg); err != nil {
		return err
	}
	rules, err := rulesFromXML(cfg.Rules)
	if err != nil {
		return err
	}
	if err := h.backend.PutLifecycle(c.ctx, c.bucket, rules); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// getLifecycle is GetBucketLifecycleConfiguration.
func (h *Handler) getLifecycle(c *call) error {
	b, err := h.backend.Bucket(c.ctx, c.bucket)
	if err != nil {
		return err
	}
	if len(b.GetRules()) == 0 {
		return errorf(http.StatusNotFound, CodeNoSuchLifecycleConfiguration, "The lifecycle configuration does not exist")
	}
	writeXML(c.w, http.StatusOK, lifecycleOut{Rules: rulesToXML(b.GetRules())})
	return nil
}

// deleteLifecycle is DeleteBucketLifecycle.
func (h *Handler) deleteLifecycle(c *call) error {
	if err := h.backend.PutLifecycle(c.ctx, c.bucket, nil); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
