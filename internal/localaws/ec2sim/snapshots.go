package ec2sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// CreateSnapshots and DescribeSnapshots: multi-volume, crash-consistent
// snapshots of an instance's EBS volumes (what a node agent requests
// before it rewinds or re-clones a former primary's data directory).

// Every instance is seeded with a boot volume and a data volume.
const (
	bootDevice, dataDevice = "/dev/xvda", "/dev/xvdf"
	bootSizeGiB, dataGiB   = 8, 100
	// snapshotDuration is how long a snapshot stays pending.
	snapshotDuration = 2 * time.Second
)

type volume struct {
	id, instanceID, device string
	boot                   bool
	sizeGiB                int
}

type snapshot struct {
	id, volumeID, description string
	sizeGiB                   int
	started                   time.Time
	tags                      map[string]string
}

// seedVolumes gives every instance its two volumes (ids derived from the
// instance id, so a topology always has the same ones).
func (m *model) seedVolumes() {
	m.volumesOf = map[string][]*volume{}
	m.snapshots = map[string]*snapshot{}
	for _, in := range m.instances {
		m.volumesOf[in.id] = []*volume{
			{id: derivedID("vol", in.id+bootDevice), instanceID: in.id, device: bootDevice, boot: true, sizeGiB: bootSizeGiB},
			{id: derivedID("vol", in.id+dataDevice), instanceID: in.id, device: dataDevice, sizeGiB: dataGiB},
		}
	}
}

// VolumeIDs returns the instance's volume ids, boot volume first.
func (s *Service) VolumeIDs(instanceID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range s.volumesOf[instanceID] {
		out = append(out, v.id)
	}
	return out
}

type snapshotXML struct {
	SnapshotID  string   `xml:"snapshotId"`
	VolumeID    string   `xml:"volumeId"`
	State       string   `xml:"state"`
	StartTime   string   `xml:"startTime"`
	Progress    string   `xml:"progress"`
	OwnerID     string   `xml:"ownerId"`
	VolumeSize  int      `xml:"volumeSize"`
	Description string   `xml:"description"`
	Encrypted   bool     `xml:"encrypted"`
	Tags        []tagXML `xml:"tagSet>item"`
}

type createSnapshotsResponse struct {
	requestMeta
	Snapshots []snapshotXML `xml:"snapshotSet>item"`
}

type describeSnapshotsResponse struct {
	requestMeta
	Snapshots []snapshotXML `xml:"snapshotSet>item"`
}

func (s *Service) snapshotXML(sn *snapshot) snapshotXML {
	state, progress := "pending", "0%"
	if s.now().Sub(sn.started) >= snapshotDuration {
		state, progress = "completed", "100%"
	}
	out := snapshotXML{SnapshotID: sn.id, VolumeID: sn.volumeID, State: state, Progress: progress, OwnerID: s.accountID,
		StartTime: sn.started.UTC().Format("2006-01-02T15:04:05.000Z"), VolumeSize: sn.sizeGiB, Description: sn.description}
	keys := make([]string, 0, len(sn.tags))
	for k := range sn.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Tags = append(out.Tags, tagXML{Key: k, Value: sn.tags[k]})
	}
	return out
}

// createSnapshots snapshots every volume of an instance (the boot volume
// too unless excluded), as one crash-consistent set.
func (s *Service) createSnapshots(call *localaws.Call, p params) (response, *localaws.APIError) {
	id := p.get("InstanceSpecification.InstanceId")
	if id == "" {
		return nil, localaws.BadRequest("MissingParameter", "The request must contain the parameter InstanceSpecification.InstanceId")
	}
	call.AddResource(id)
	in := s.instanceByID[id]
	if in == nil {
		return nil, instanceNotFound([]string{id})
	}
	if in.state == StateTerminated || in.state == StateShuttingDown {
		return nil, localaws.BadRequest("IncorrectState", "The instance '%s' is not in a state from which its volumes can be snapshotted.", id)
	}
	excludeBoot, err := p.boolean("InstanceSpecification.ExcludeBootVolume")
	if err != nil {
		return nil, err
	}
	desc := p.get("Description")
	if len(desc) > 255 {
		return nil, localaws.BadRequest("InvalidParameterValue", "Value for parameter Description is too long (%d characters; the limit is 255).", len(desc))
	}
	tags := map[string]string{}
	for i := 1; p.has(fmt.Sprintf("TagSpecification.%d.ResourceType", i)); i++ {
		prefix := fmt.Sprintf("TagSpecification.%d.", i)
		if rt := p.get(prefix + "ResourceType"); rt != "snapshot" {
			return nil, localaws.BadRequest("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", rt)
		}
		for j := 1; p.has(fmt.Sprintf("%sTag.%d.Key", prefix, j)); j++ {
			k := p.get(fmt.Sprintf("%sTag.%d.Key", prefix, j))
			if k == "" || strings.HasPrefix(k, "aws:") {
				return nil, localaws.BadRequest("InvalidParameterValue", "Tag key %q is not allowed.", k)
			}
			tags[k] = p.get(fmt.Sprintf("%sTag.%d.Value", prefix, j))
		}
	}
	out := &createSnapshotsResponse{}
	for _, v := range s.volumesOf[id] {
		if v.boot && excludeBoot {
			continue
		}
		sn := &snapshot{id: newID("snap"), volumeID: v.id, description: desc, sizeGiB: v.sizeGiB, started: s.now(), tags: tags}
		s.snapshots[sn.id] = sn
		call.AddResource(v.id, sn.id)
		out.Snapshots = append(out.Snapshots, s.snapshotXML(sn))
	}
	return out, nil
}

// describeSnapshots lists the account's snapshots, or those named.
func (s *Service) describeSnapshots(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("SnapshotId")
	call.AddResource(ids...)
	out := &describeSnapshotsResponse{}
	for _, id := range ids {
		if s.snapshots[id] == nil {
			return nil, localaws.BadRequest("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
		}
	}
	all := make([]*snapshot, 0, len(s.snapshots))
	for _, sn := range s.snapshots {
		if len(ids) == 0 || contains(ids, sn.id) {
			all = append(all, sn)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].started.Before(all[j].started) || all[i].started.Equal(all[j].started) && all[i].id < all[j].id
	})
	for _, sn := range all {
		out.Snapshots = append(out.Snapshots, s.snapshotXML(sn))
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
