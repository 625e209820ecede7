using '../main.bicep'

param environment = 'prod'
param eventHubsCapacity = 8
param samplePartitions = 16
param trainingNodes = 4
param trainingVmSize = 'Standard_D16s_v5'
param servingMinNodes = 3
param servingMaxNodes = 30
param servingVmSize = 'Standard_D8s_v5'
