package ec2sim

import (
	"strconv"

	"github.com/switchyard/switchyard/internal/localaws"
)

// DescribeInstanceStatus.

type instanceStatusXML struct {
	InstanceID         string           `xml:"instanceId"`
	AvailabilityZone   string           `xml:"availabilityZone"`
	AvailabilityZoneID string           `xml:"availabilityZoneId"`
	State              stateXML         `xml:"instanceState"`
	SystemStatus       statusSummaryXML `xml:"systemStatus"`
	InstanceStatus     statusSummaryXML `xml:"instanceStatus"`
}

type statusSummaryXML struct {
	Status  string            `xml:"status"`
	Details []statusDetailXML `xml:"details>item"`
}

type statusDetailXML struct {
	Name          string `xml:"name"`
	Status        string `xml:"status"`
	ImpairedSince string `xml:"impairedSince,omitempty"`
}

type describeInstanceStatusResponse struct {
	requestMeta
	Statuses  []instanceStatusXML `xml:"instanceStatusSet>item"`
	NextToken string              `xml:"nextToken,omitempty"`
}

var instanceStatusFilters = filterSpec[instanceStatusXML]{
	fields: map[string]func(instanceStatusXML) []string{
		"availability-zone":   func(v instanceStatusXML) []string { return one(v.AvailabilityZone) },
		"instance-state-name": func(v instanceStatusXML) []string { return one(v.State.Name) },
		"instance-state-code": func(v instanceStatusXML) []string { return one(strconv.Itoa(v.State.Code)) },
		"instance-status.status": func(v instanceStatusXML) []string {
			return one(v.InstanceStatus.Status)
		},
		"system-status.status": func(v instanceStatusXML) []string { return one(v.SystemStatus.Status) },
		"instance-status.reachability": func(v instanceStatusXML) []string {
			return detailStatuses(v.InstanceStatus)
		},
		"system-status.reachability": func(v instanceStatusXML) []string { return detailStatuses(v.SystemStatus) },
	},
}

func detailStatuses(s statusSummaryXML) []string {
	var out []string
	for _, d := range s.Details {
		out = append(out, d.Status)
	}
	return out
}

// describeInstanceStatus reports status checks. Without IncludeAllInstances
// only running instances are listed, as in EC2.
func (s *Service) describeInstanceStatus(call *localaws.Call, p params) (response, *localaws.APIError) {
	ids := p.list("InstanceId")
	call.AddResource(ids...)
	filters := p.filters()
	if err := instanceStatusFilters.check(filters); err != nil {
		return nil, err
	}
	all, err := p.boolean("IncludeAllInstances")
	if err != nil {
		return nil, err
	}
	pg, err := pageParams(p, call.Operation, 5, 1000, "instancesSet", ids != nil)
	if err != nil {
		return nil, err
	}
	if err := checkInstanceIDs(ids); err != nil {
		return nil, err
	}
	selected, err := selectByID(s.instances, func(i *instance) string { return i.id }, ids, instanceNotFound)
	if err != nil {
		return nil, err
	}
	v := s.newViewLocked()
	var items []instanceStatusXML
	for _, in := range selected {
		if v.misses(s.lastChange(in)) {
			if ids != nil {
				return nil, instanceNotFound([]string{in.id})
			}
			continue
		}
		state, _ := v.instanceState(in)
		if !all && state != StateRunning {
			continue
		}
		az := s.azOf(in.subnetID)
		items = append(items, instanceStatusXML{
			InstanceID: in.id, AvailabilityZone: az, AvailabilityZoneID: azID(az), State: stateOf(state),
			SystemStatus:   statusSummary(state, in, in.systemImpaired),
			InstanceStatus: statusSummary(state, in, in.instanceImpaired),
		})
	}
	out := &describeInstanceStatusResponse{}
	out.Statuses, out.NextToken = paginate(instanceStatusFilters.apply(items, filters), call.Operation, pg)
	return out, nil
}

// statusSummary is one status check of an instance seen in state:
// initializing while pending, ok or impaired while running, not-applicable
// otherwise.
func statusSummary(state string, in *instance, impaired bool) statusSummaryXML {
	switch state {
	case StatePending:
		return statusSummaryXML{Status: "initializing", Details: []statusDetailXML{{Name: "reachability", Status: "initializing"}}}
	case StateRunning:
		if impaired {
			return statusSummaryXML{Status: "impaired", Details: []statusDetailXML{{
				Name: "reachability", Status: "failed", ImpairedSince: timestamp(in.impairedSince)}}}
		}
		return statusSummaryXML{Status: "ok", Details: []statusDetailXML{{Name: "reachability", Status: "passed"}}}
	}
	return statusSummaryXML{Status: "not-applicable"}
}
