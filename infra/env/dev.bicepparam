using '../main.bicep'

param environment = 'dev'
param eventHubsCapacity = 1
param samplePartitions = 2
param trainingNodes = 1
param trainingVmSize = 'Standard_D4s_v5'
param servingMinNodes = 1
param servingMaxNodes = 3
param servingVmSize = 'Standard_D2s_v5'
