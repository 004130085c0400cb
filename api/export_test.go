package api

import (
	"context"
	"encoding/json"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Broker exposes the server's broker to the tests of package api_test, so
// that they can watch subscribers come and go. It is compiled only into the
// tests.
func (s *Server) Broker() *Broker { return s.broker }

// SeedUser stores a user as POST /api/v1/users would, but with a bcrypt
// hash of the least cost: under the race detector a default-cost hash takes
// most of a second, and the tests sign in many times.
func SeedUser(ctx context.Context, items Items, username, password, role string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return err
	}
	data, err := json.Marshal(userRecord{Username: username, Role: Role(role), Hash: string(hash),
		Created: time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	return items.PutItem(ctx, itemUser, username, data)
}
