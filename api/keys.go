package api

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Signing keys (docs/architecture.md, "Imports anchored to the paper").
// Each deployment has one Ed25519 key; it signs every round it certifies.
// A district registers the keys of its wards, so that an import signed
// under one of them needs no head typed from the paper.

const (
	// itemInstanceKey holds the deployment's signing key under
	// instanceKeyName. It is in the store, so every instance on one Redis
	// signs with the same key, and the embedded store keeps it in the data
	// directory.
	itemInstanceKey = "instance_key"
	instanceKeyName = "ed25519"
	// itemSigningKey: key fingerprint (compact hex) → registeredKey, the
	// keys of other instances whose signatures this one trusts.
	itemSigningKey = "signing_key"

	maxKeyLabel      = 200  // characters
	maxRegisteredKey = 5000 // far more wards than any district has
)

// KeyItems is what the instance key is kept in.
type KeyItems interface {
	Item(ctx context.Context, kind, key string) ([]byte, error)
	SwapItem(ctx context.Context, kind, key string, old, value []byte) (bool, error)
}

type instanceKeyItem struct {
	Seed    string `json:"seed"` // the 32-byte Ed25519 seed, hex
	Created string `json:"created"`
}

// InstanceKey returns the deployment's signing key, making it the first
// time: a new key is stored only if there is none (SwapItem with old nil),
// so of several instances starting together on one Redis, one key wins
// and every instance reads it.
func InstanceKey(ctx context.Context, items KeyItems, now func() string) (ed25519.PrivateKey, error) {
	for range 3 {
		data, err := items.Item(ctx, itemInstanceKey, instanceKeyName)
		if err == nil {
			var it instanceKeyItem
			seed, herr := []byte(nil), json.Unmarshal(data, &it)
			if herr == nil {
				seed, herr = hex.DecodeString(it.Seed)
			}
			if herr != nil || len(seed) != ed25519.SeedSize {
				return nil, fmt.Errorf("the instance's signing key in the store is damaged (%s/%s)", itemInstanceKey, instanceKeyName)
			}
			return ed25519.NewKeyFromSeed(seed), nil
		}
		if tally.ErrorKind(err) != tally.NotFound {
			return nil, err
		}
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		data, _ = json.Marshal(instanceKeyItem{Seed: hex.EncodeToString(seed), Created: now()})
		made, err := items.SwapItem(ctx, itemInstanceKey, instanceKeyName, nil, data)
		if err != nil {
			return nil, err
		}
		if made {
			return ed25519.NewKeyFromSeed(seed), nil
		}
		// Another instance made one first: read it.
	}
	return nil, fmt.Errorf("the instance's signing key could not be read or made")
}

// signingKey is the key certifications are signed with: Config.SigningKey,
// else the store's, read (or made) on first use.
func (s *Server) signingKey(ctx context.Context) (ed25519.PrivateKey, error) {
	s.key.mu.Lock()
	defer s.key.mu.Unlock()
	if s.key.k == nil {
		k, err := InstanceKey(ctx, s.store, s.stamp)
		if err != nil {
			return nil, err
		}
		s.key.k = k
	}
	return s.key.k, nil
}

// registeredKey is the key of another instance (a ward's) registered here,
// with the label people know it by ("Đảng bộ Phường 7").
type registeredKey struct {
	Label       string `json:"label"`
	Fingerprint string `json:"fingerprint"` // grouped, as the minutes print it
	PublicKey   string `json:"public_key"`
	Added       string `json:"added"`
	AddedBy     string `json:"added_by"`
}

// Key is the fingerprint without its spaces, as the key is addressed.
func (k registeredKey) Key() string { return tally.FingerprintKey(k.Fingerprint) }

type keyRequest struct {
	Label       string `json:"label"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"` // optional: checked against the key
}

// addKey registers a key; the same key twice is a conflict (its label
// stays as first given: delete it to rename).
func (s *Server) addKey(ctx context.Context, req keyRequest, by string) (*registeredKey, error) {
	label := tally.CleanText(req.Label)
	switch n := utf8.RuneCountInString(label); {
	case n == 0:
		return nil, refused(errorf(tally.Invalid, "label", `required: whose key this is, as the minutes name the organization ("Đảng bộ Phường 7")`), "keys.refused.label_missing")
	case n > maxKeyLabel:
		return nil, refused(errorf(tally.Invalid, "label", "too long (%d characters, at most %d)", n, maxKeyLabel), "keys.refused.label_long", n, maxKeyLabel)
	}
	if req.PublicKey == "" {
		return nil, refused(errorf(tally.Invalid, "public_key", "required: the key as its instance shows it (GET /api/v1/keys/self, or the page /imports there)"), "keys.refused.public_key_missing")
	}
	pub, err := tally.ParsePublicKey(req.PublicKey)
	if err != nil {
		return nil, refused(errorf(tally.Invalid, "public_key", "%v", err), "keys.refused.public_key_bad")
	}
	fp := tally.Fingerprint(pub)
	if req.Fingerprint != "" {
		want, err := tally.ParseFingerprint(req.Fingerprint)
		if err != nil {
			return nil, refused(errorf(tally.Invalid, "fingerprint", "%v", err), "keys.refused.fingerprint_bad")
		}
		if want != tally.FingerprintKey(fp) {
			return nil, refused(errorf(tally.Invalid, "fingerprint", "the key's fingerprint is %s, not the one given: this is not the key the minutes name", fp), "keys.refused.fingerprint_differs", fp)
		}
	}
	existing, err := s.store.ListItems(ctx, itemSigningKey)
	if err != nil {
		return nil, err
	}
	if len(existing) >= maxRegisteredKey {
		return nil, refused(errorf(tally.Conflict, "public_key", "%d keys are registered, the most this instance keeps; delete those no longer used", len(existing)), "keys.refused.too_many", len(existing))
	}
	k := &registeredKey{Label: label, Fingerprint: fp, PublicKey: hex.EncodeToString(pub), Added: s.stamp(), AddedBy: by}
	data, _ := json.Marshal(k)
	added, err := s.store.SwapItem(ctx, itemSigningKey, tally.FingerprintKey(fp), nil, data)
	if err != nil {
		return nil, err
	}
	if !added {
		old, err := s.registeredKey(ctx, pub)
		if err != nil || old == nil {
			return nil, errorf(tally.Conflict, "public_key", "the key %s is already registered", fp)
		}
		return nil, refused(errorf(tally.Conflict, "public_key", "the key %s is already registered, as %q", fp, old.Label), "keys.refused.duplicate", fp, old.Label)
	}
	s.log.Info("signing key registered", "fingerprint", fp, "label", label, "by", by)
	return k, nil
}

// registeredKey is the registration of pub, or nil if it has none.
func (s *Server) registeredKey(ctx context.Context, pub ed25519.PublicKey) (*registeredKey, error) {
	data, err := s.store.Item(ctx, itemSigningKey, tally.FingerprintKey(tally.Fingerprint(pub)))
	if tally.ErrorKind(err) == tally.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var k registeredKey
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("registered key %s: %w", tally.Fingerprint(pub), err)
	}
	if k.PublicKey != hex.EncodeToString(pub) {
		return nil, nil // another key with the same fingerprint prefix is not this one
	}
	return &k, nil
}

// registeredKeys lists the registered keys by label.
func (s *Server) registeredKeys(ctx context.Context) ([]registeredKey, error) {
	items, err := s.store.ListItems(ctx, itemSigningKey)
	if err != nil {
		return nil, err
	}
	out := make([]registeredKey, 0, len(items))
	for fp, data := range items {
		var k registeredKey
		if err := json.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("registered key %s: %w", fp, err)
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b registeredKey) int {
		return cmp.Or(cmp.Compare(a.Label, b.Label), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	return out, nil
}

// removeKey deletes a registration by fingerprint; imports already made
// under it stay as they are.
func (s *Server) removeKey(ctx context.Context, fingerprint, by string) error {
	fp, err := tally.ParseFingerprint(fingerprint)
	if err != nil {
		return refused(errorf(tally.Invalid, "fingerprint", "%v", err), "keys.refused.fingerprint_bad")
	}
	if _, err := s.store.Item(ctx, itemSigningKey, fp); err != nil {
		if tally.ErrorKind(err) == tally.NotFound {
			return refused(errorf(tally.NotFound, "fingerprint", "no key with the fingerprint %s is registered", fingerprint), "keys.refused.not_found", fingerprint)
		}
		return err
	}
	if err := s.store.DeleteItem(ctx, itemSigningKey, fp); err != nil {
		return err
	}
	s.log.Info("signing key removed", "fingerprint", fp, "by", by)
	return nil
}

// selfKey is this deployment's public key as the district registers it.
type selfKey struct {
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
}

func (s *Server) selfKey(ctx context.Context) (selfKey, error) {
	k, err := s.signingKey(ctx)
	if err != nil {
		return selfKey{}, err
	}
	pub := k.Public().(ed25519.PublicKey)
	return selfKey{PublicKey: hex.EncodeToString(pub), Fingerprint: tally.Fingerprint(pub)}, nil
}

// GET /api/v1/keys/self: the key this deployment signs with.
func (s *Server) getSelfKey(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	k, err := s.selfKey(ctx)
	if err != nil {
		return err
	}
	return c.JSON(k)
}

// GET /api/v1/keys: the registered keys.
func (s *Server) listKeys(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	keys, err := s.registeredKeys(ctx)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"keys": keys})
}

// POST /api/v1/keys {"label", "public_key", "fingerprint"?}.
func (s *Server) postKey(c *fiber.Ctx) error {
	var req keyRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	k, err := s.addKey(ctx, req, who(c))
	if err != nil {
		return err
	}
	c.Location("/api/v1/keys/" + tally.FingerprintKey(k.Fingerprint))
	return c.Status(fiber.StatusCreated).JSON(k)
}

// DELETE /api/v1/keys/{fingerprint}.
func (s *Server) deleteKey(c *fiber.Ctx) error {
	fp, err := url.PathUnescape(c.Params("fingerprint"))
	if err != nil {
		fp = c.Params("fingerprint")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if err := s.removeKey(ctx, fp, who(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// signedBy is the fingerprint of the key a round is signed with, "" if it
// carries no signature that verifies.
func signedBy(rec *tally.Record) (string, ed25519.PublicKey) {
	pub, err := tally.CheckSignature(rec)
	if err != nil || pub == nil {
		return "", nil
	}
	return tally.Fingerprint(pub), pub
}
