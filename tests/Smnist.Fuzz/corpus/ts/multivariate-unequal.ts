@problemName Q
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down flat
@data
1,2,3:4,5,6:up
7,8:9,10:down

0.5:0.25:flat
