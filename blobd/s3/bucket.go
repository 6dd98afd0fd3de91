package s3

import (
	"encoding/xml"
	"net/http"
	"strings"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// owner is S3's Owner (and Initiator) element: cairn's principals stand
// for both the canonical id and the display name.
type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

func ownerOf(principal string) *owner { return &owner{ID: principal, DisplayName: principal} }

type bucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
}

type listBucketsResult struct {
	XMLName xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   *owner        `xml:"Owner"`
	Buckets []bucketEntry `xml:"Buckets>Bucket"`
}

// listBuckets is ListBuckets: every bucket (cairn has no per-owner
// visibility: any valid key may use any bucket).
func (h *Handler) listBuckets(c *call) error {
	bs, err := h.backend.Buckets(c.ctx)
	if err != nil {
		return err
	}
	res := listBucketsResult{Owner: ownerOf(c.principal.Name), Buckets: []bucketEntry{}}
	prefix := c.q.Get("prefix")
	for _, b := range bs {
		if strings.HasPrefix(b.GetName(), prefix) {
			res.Buckets = append(res.Buckets, bucketEntry{Name: b.GetName(), CreationDate: s3Time(b.GetCreatedUnixNanos())})
		}
	}
	writeXML(c.w, http.StatusOK, res)
	return nil
}

// createBucketConfiguration is CreateBucket's optional body.
type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

// createBucket is CreateBucket, owned by the signing principal; the
// LocationConstraint, when given, must be this region.
func (h *Handler) createBucket(c *call) error {
	if c.r.ContentLength != 0 {
		var cfg createBucketConfiguration
		if err := h.readXML(c, &cfg); err != nil {
			return err
		}
		if lc := cfg.LocationConstraint; lc != "" && lc != h.cfg.Region && !(lc == "US" && h.cfg.Region == DefaultRegion) {
			return errorf(http.StatusBadRequest, CodeIllegalLocationConstraint, "The %s location constraint is incompatible for the region specific endpoint this request was sent to (%s).", lc, h.cfg.Region)
		}
	}
	if err := meta.ValidateBucketName(c.bucket); err != nil {
		return err
	}
	_, err := h.backend.CreateBucket(c.ctx, c.bucket, c.principal.Name, blobdraftv1.Tier_TIER_UNSPECIFIED)
	if blobd.ReasonOf(err) == rpcerr.BucketExists {
		if rpcerr.MetadataOf(err)[meta.KeyBucketOwner] == c.principal.Name {
			return errorf(http.StatusConflict, CodeBucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
		}
		if b, berr := h.backend.Bucket(c.ctx, c.bucket); berr == nil && b.GetOwner() == c.principal.Name {
			return errorf(http.StatusConflict, CodeBucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
		}
	}
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", "/"+c.bucket)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// deleteBucket is DeleteBucket: only an empty bucket (no objects, no
// uploads in progress).
func (h *Handler) deleteBucket(c *call) error {
	if err := h.backend.DeleteBucket(c.ctx, c.bucket); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// headBucket is HeadBucket.
func (h *Handler) headBucket(c *call) error {
	if _, err := h.backend.Bucket(c.ctx, c.bucket); err != nil {
		return err
	}
	c.w.Header().Set("x-amz-bucket-region", h.cfg.Region)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

type locationResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Region  string   `xml:",chardata"`
}

// getBucketLocation is GetBucketLocation: empty for us-east-1, as S3.
func (h *Handler) getBucketLocation(c *call) error {
	if _, err := h.backend.Bucket(c.ctx, c.bucket); err != nil {
		return err
	}
	region := h.cfg.Region
	if region == DefaultRegion {
		region = ""
	}
	writeXML(c.w, http.StatusOK, locationResult{Region: region})
	return nil
}

type versioningResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
}

// getVersioning is GetBucketVersioning: never enabled.
func (h *Handler) getVersioning(c *call) error {
	if _, err := h.backend.Bucket(c.ctx, c.bucket); err != nil {
		return err
	}
	writeXML(c.w, http.StatusOK, versioningResult{})
	return nil
}

type grantee struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	XSIType     string `xml:"xsi:type,attr"`
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type grant struct {
	Grantee    grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

type aclResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
	Owner   *owner   `xml:"Owner"`
	Grants  []grant  `xml:"AccessControlList>Grant"`
}

// getACL is GetBucketAcl and GetObjectAcl: the owner has full control
// (cairn keeps no ACLs).
func (h *Handler) getACL(c *call) error {
	b, err := h.backend.Bucket(c.ctx, c.bucket)
	if err != nil {
		return err
	}
	if c.key != "" {
		if _, err := h.backend.HeadObject(c.ctx, c.bucket, c.key); err != nil {
			return err
		}
	}
	o := b.GetOwner()
	writeXML(c.w, http.StatusOK, aclResult{Owner: ownerOf(o), Grants: []grant{{
		Grantee:    grantee{XMLNSXSI: "http://www.w3.org/2001/XMLSchema-instance", XSIType: "CanonicalUser", ID: o, DisplayName: o},
		Permission: "FULL_CONTROL",
	}}})
	return nil
}

// missingConfig answers a GET of a bucket configuration cairn never has
// (policy, CORS, tags, encryption, website) with S3's "no such" error.
func (h *Handler) missingConfig(c *call) error {
	if _, err := h.backend.Bucket(c.ctx, c.bucket); err != nil {
		return err
	}
	code, what := "", ""
	switch {
	case c.q.Has("policy"):
		code, what = "NoSuchBucketPolicy", "The bucket policy does not exist"
	case c.q.Has("cors"):
		code, what = "NoSuchCORSConfiguration", "The CORS configuration does not exist"
	case c.q.Has("tagging"):
		code, what = "NoSuchTagSet", "The TagSet does not exist"
	case c.q.Has("encryption"):
		code, what = "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"
	default:
		code, what = "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"
	}
	return errorf(http.StatusNotFound, code, "%s", what)
}
