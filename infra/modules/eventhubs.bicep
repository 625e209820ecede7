// Event Hubs for the sample streams (CTR and CVR, sent by upstream logging pipelines) and the
// weights stream (deltas and checkpoint announcements). Local (SAS) auth is off.
param name string
param location string
param tags object

@description('Throughput units of the namespace.')
@minValue(1)
@maxValue(40)
param capacity int = 2

@description('Partitions of each sample hub (the trainers\' partitions).')
@minValue(1)
@maxValue(32)
param samplePartitions int = 4

@description('Partitions of the weights hub.')
@minValue(1)
@maxValue(32)
param weightPartitions int = 2

@description('Days events are kept.')
@minValue(1)
@maxValue(7)
param retentionDays int = 1

@description('Principal (the silos\' managed identity) that sends and receives.')
param principalId string

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: capacity
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    isAutoInflateEnabled: false
  }
}

var hubs = [
  { name: 'ctr-samples', partitions: samplePartitions }
  { name: 'cvr-samples', partitions: samplePartitions }
  { name: 'labels', partitions: samplePartitions }
  { name: 'weights', partitions: weightPartitions }
]

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = [for h in hubs: {
  parent: namespace
  name: h.name
  properties: {
    partitionCount: h.partitions
    messageRetentionInDays: retentionDays
  }
}]

// The silos read every hub through one consumer group of their own (upstream readers keep $Default).
resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = [for (h, i) in hubs: {
  parent: hub[i]
  name: 'freshet'
}]

var dataSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '2b629674-e913-4c01-ae53-ef4638d8f975')
var dataReceiver = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde')

// The silos send weights and receive samples and weights; upstream producers get their own sender role.
resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: namespace
  name: guid(namespace.id, principalId, dataSender)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: dataSender
  }
}

resource receiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: namespace
  name: guid(namespace.id, principalId, dataReceiver)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: dataReceiver
  }
}

output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output name string = namespace.name
