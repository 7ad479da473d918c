package main

import (
	"context"
	"time"
)

// Point-in-time recovery is only a flag here (kept in memory, per table): exports check it as
// AWS does, so a test has to enable it with UpdateContinuousBackups first.

type pitrState struct {
	Enabled bool
	Since   time.Time // when it was enabled: EarliestRestorableDateTime
	Days    int
}

type pitrDescription struct {
	PointInTimeRecoveryStatus  string
	EarliestRestorableDateTime *epochTime `json:",omitempty"`
	LatestRestorableDateTime   *epochTime `json:",omitempty"`
	RecoveryPeriodInDays       int        `json:",omitempty"`
}

type continuousBackupsOutput struct {
	ContinuousBackupsDescription struct {
		ContinuousBackupsStatus        string
		PointInTimeRecoveryDescription pitrDescription
	}
}

// pitrOf is the table's PITR state; a table nobody configured gets the default (enabled since
// its creation when the default is ENABLED).
func (s *server) pitrOf(id identity, t tableInfo) pitrState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.pitr[tableKey(id, t)]; ok {
		return st
	}
	return pitrState{Enabled: s.cfg.PITRDefault, Since: t.CreationDateTime.Time, Days: 35}
}

func (s *server) describeContinuousBackups(ctx context.Context, id identity, body []byte) (any, error) {
	var in struct{ TableName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.TableName == "" {
		return nil, validationf("TableName is required")
	}
	t, err := s.up.describeTable(ctx, id, nameOrArn(in.TableName))
	if err != nil {
		return nil, err
	}
	return s.backupsOutput(s.pitrOf(id, t)), nil
}

func (s *server) updateContinuousBackups(ctx context.Context, id identity, body []byte) (any, error) {
	var in struct {
		TableName                        string
		PointInTimeRecoverySpecification *struct {
			PointInTimeRecoveryEnabled *bool
			RecoveryPeriodInDays       int
		}
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	spec := in.PointInTimeRecoverySpecification
	if in.TableName == "" || spec == nil || spec.PointInTimeRecoveryEnabled == nil {
		return nil, validationf("TableName and PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled are required")
	}
	if spec.RecoveryPeriodInDays != 0 && (spec.RecoveryPeriodInDays < 1 || spec.RecoveryPeriodInDays > 35) {
		return nil, validationf("RecoveryPeriodInDays must be between 1 and 35")
	}
	t, err := s.up.describeTable(ctx, id, nameOrArn(in.TableName))
	if err != nil {
		return nil, err
	}
	st := s.pitrOf(id, t)
	switch {
	case *spec.PointInTimeRecoveryEnabled && !st.Enabled:
		st = pitrState{Enabled: true, Since: s.now().Truncate(time.Millisecond), Days: 35}
	case !*spec.PointInTimeRecoveryEnabled:
		st = pitrState{Days: 35}
	}
	if spec.RecoveryPeriodInDays != 0 {
		st.Days = spec.RecoveryPeriodInDays
	}
	s.mu.Lock()
	s.pitr[tableKey(id, t)] = st
	s.mu.Unlock()
	return s.backupsOutput(st), nil
}

func (s *server) backupsOutput(st pitrState) continuousBackupsOutput {
	var out continuousBackupsOutput
	d := &out.ContinuousBackupsDescription
	d.ContinuousBackupsStatus = "ENABLED" // on-demand backups: always on in AWS
	d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus = "DISABLED"
	if st.Enabled {
		d.PointInTimeRecoveryDescription = pitrDescription{
			PointInTimeRecoveryStatus:  "ENABLED",
			EarliestRestorableDateTime: newEpochTime(st.Since),
			LatestRestorableDateTime:   newEpochTime(s.now()),
			RecoveryPeriodInDays:       st.Days,
		}
	}
	return out
}

// nameOrArn accepts a table ARN where AWS does (TableName), for DynamoDB Local, which does not.
func nameOrArn(table string) string {
	if name, err := tableNameOf(table); err == nil {
		return name
	}
	return table
}
