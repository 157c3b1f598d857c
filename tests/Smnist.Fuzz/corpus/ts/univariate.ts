# comment
@problemName P
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 3
@classLabel true 1 2
@data
1.0,2.5,-3:1
0,0,1e-3:2
